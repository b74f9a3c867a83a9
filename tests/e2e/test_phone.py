"""The shell on a phone (390×844): the navigation drawer starts closed and
opens from the menu button, no page is wider than the screen (grids and
the Files table scroll sideways inside themselves), and a collection is a list of
cards that say times in the person's own time zone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
PAGES = ["/", "/m/tasks", "/m/tasks/board", "/m/inventory", "/notifications", "/files", "/files?view=trash",
         "/account", "/account?tab=keys", "/admin", "/admin/users", "/admin/modules", "/admin/settings", "/admin/logs"]


def _width(shell: Any) -> int:
    return int(shell.page.evaluate("document.scrollingElement.scrollWidth"))


def test_no_page_is_wider_than_a_phone_and_the_drawer_starts_closed(admin: Any, platform: Any, admin_token: str,
                                                                   tasks_api: str) -> None:
    phone = admin
    phone.page.set_viewport_size(PHONE)
    too_wide = {}
    with platform.api(admin_token) as client:  # a task's record page: the form above its panels and history
        task = client.post("/api/tasks/tasks", json={"title": "on a phone", "tags": ["x"]}).json()
    for path in [*PAGES, f"/m/tasks/tasks/{task['id']}"]:
        phone.open(path)
        phone.page.wait_for_timeout(500)  # the grid and the frames settle
        expect(phone.page.get_by_test_id("nav")).not_to_be_in_viewport()
        if _width(phone) > PHONE["width"]:
            too_wide[path] = _width(phone)
    assert not too_wide, too_wide
    phone.open("/m/tasks?q=on%20a%20phone")  # a phone lists cards, not a squeezed grid
    card = phone.page.get_by_test_id("explorer-card").filter(has_text="on a phone").first
    expect(card).to_be_visible()
    expect(card).to_contain_text("Status: To do")  # as the grid reads it: a label, not `todo`
    expect(phone.page.get_by_test_id("explorer-grid")).to_be_hidden()
    phone.shot("phone-cards")
    card.click()  # a card opens its record
    phone.page.wait_for_url(f"**/m/tasks/tasks/{task['id']}")
    phone.open("/m/tasks")
    phone.page.get_by_test_id("menu-button").click()
    expect(phone.page.get_by_test_id("nav")).to_be_in_viewport()
    phone.page.get_by_test_id("nav-files").click()
    phone.page.wait_for_url("**/files")
    expect(phone.page.get_by_test_id("nav")).not_to_be_in_viewport()
    phone.shot("phone-files")
    phone.open(f"/m/tasks/tasks/{task['id']}")
    phone.page.get_by_test_id("history-entry").first.wait_for()
    phone.shot("phone-record")


def test_a_phones_cards_say_a_time_in_the_persons_own_time_zone(
        admin_in_new_york: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    """03:30 UTC on the 24th is 22:30 on the 23rd in New York: the card says the local day and time."""
    phone, tag = admin_in_new_york, uuid.uuid4().hex[:6]
    phone.page.set_viewport_size(PHONE)
    platform.create_task(admin_token, f"phone due {tag}", due_date="2031-12-24T03:30:00Z")
    phone.open(f"/m/tasks?q=phone%20due%20{tag}")
    card = phone.page.get_by_test_id("explorer-card").filter(has_text=f"phone due {tag}")
    local = phone.local_time("2031-12-24T03:30:00Z")
    assert "23" in local  # the day before, there
    expect(card).to_contain_text(f"Due Date: {local}")
    expect(card).not_to_contain_text("2031-12-24")
