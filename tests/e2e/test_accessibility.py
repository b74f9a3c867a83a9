"""axe-core (bundled by axe-playwright-python: nothing fetched at run time)
over every shell page and the module views framed in it, signed in as an
admin so the admin pages count too, and over the signed-out pages: no
serious or critical violation. And the board used by keyboard alone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from webos_shell.pages.account import TABS
from webos_shell.palette_items import ADMIN_PAGES, SHELL_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIGNED_IN = [
    *(page.path for page in SHELL_PAGES if page.path),
    "/files?view=trash",
    *(f"/account?tab={tab}" for tab in TABS),
    "/m/tasks", "/m/tasks/board", "/m/inventory", "/m/orders",
    *(f"/{path}" for path, _ in ADMIN_PAGES),
    "/admin/record-rules", "/admin/m/tasks",
]
DARK = ["/", "/m/tasks", "/files", "/account?tab=keys", "/admin/users", "/admin/modules"]
SIGNED_OUT = ["/login", "/register", "/password/forgot"]
GRAVE = {"serious", "critical"}


def _grave(page: Any) -> list[str]:
    """Each serious or critical violation on the page as it is now: rule, impact, where."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]} {v['nodes'][0]['html'][:160]}"
            for v in found if v["impact"] in GRAVE]


def _grave_here_and_in_frames(page: Any) -> list[str]:
    found = _grave(page)
    for frame in page.frames[1:]:  # the module views (iframes) are pages of their own to axe
        frame.wait_for_load_state()
        found += [f"in {frame.url.split('?')[0]}: {violation}" for violation in _grave(frame)]
    return found


def _a_file_in_the_home(platform: Any, token: str) -> None:
    """So Files shows a row with its actions."""
    with platform.api(token) as client:
        home = client.get("/api/storage/sources").json()["home"]
        put = client.put("/api/storage/files/content", params={"urn": f"{home}a11y-{uuid.uuid4().hex[:6]}.txt"},
                         content=b"axe", headers={"Content-Type": "text/plain"})
    assert put.status_code in (200, 201), put.text


def a_record_page(platform: Any, token: str) -> str:
    """The record page of a task with a history (created, then changed)."""
    with platform.api(token) as client:
        made = client.post("/api/tasks/tasks", json={"title": f"a11y {uuid.uuid4().hex[:6]}", "tags": ["x"]})
        assert made.status_code == 201, made.text
        assert client.patch(f"/api/tasks/tasks/{made.json()['id']}", json={"priority": "high"}).status_code == 200
    return f"/m/tasks/tasks/{made.json()['id']}"


def test_every_signed_in_page_has_no_serious_violation(admin: Any, platform: Any, admin_token: str,
                                                      tasks_api: str) -> None:
    _a_file_in_the_home(platform, admin_token)
    admin.page.set_default_timeout(45_000)  # every page, with its module frames, on a shared machine
    report = {}
    for path in [*SIGNED_IN, a_record_page(platform, admin_token), "/m/tasks/tasks/0123456789abcdef01234567"]:
        admin.open(path)
        admin.page.wait_for_timeout(800)  # the grid and the module frames settle
        report[path] = _grave_here_and_in_frames(admin.page)
    assert not any(report.values()), {path: found for path, found in report.items() if found}


def test_the_consent_page_has_no_serious_violation(admin: Any, platform: Any, admin_token: str) -> None:
    """Where an app that signs people in with WebOS sends them (test_openid_consent_page.py)."""
    from urllib.parse import urlencode

    with platform.api(admin_token) as client:
        app = client.post("/api/auth/oauth/clients", json={"name": "Axe app", "redirect_uris": ["https://a.example/cb"]})
    assert app.status_code == 201, app.text
    query = {"response_type": "code", "client_id": app.json()["client_id"], "redirect_uri": "https://a.example/cb",
             "scope": "openid profile email", "state": "s", "code_challenge": "A" * 43, "code_challenge_method": "S256"}
    admin.page.goto(f"{platform.url}/api/auth/oauth/authorize?{urlencode(query)}")
    admin.page.get_by_test_id("consent-card").wait_for()
    assert _grave(admin.page) == []


def test_dark_pages_have_no_serious_violation(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    admin.open("/")
    toggled = "body--dark" not in (admin.page.locator("body").get_attribute("class") or "")
    report = {}
    try:
        if toggled:
            admin.page.get_by_test_id("user-menu").click()
            admin.page.get_by_text("Light / dark").click()
            admin.page.locator("body.body--dark").wait_for()
        for path in [*DARK, a_record_page(platform, admin_token)]:
            admin.open(path)
            admin.page.wait_for_timeout(800)
            report[path] = _grave(admin.page)
    finally:
        if toggled:  # the admin's theme as it was
            admin.page.get_by_test_id("user-menu").click()
            admin.page.get_by_text("Light / dark").click()
            admin.page.locator("body.body--light").wait_for()
    assert not any(report.values()), {path: found for path, found in report.items() if found}


def test_the_signed_out_pages_have_no_serious_violation(shell: Any) -> None:
    report = {}
    for path in SIGNED_OUT:
        shell.goto(path)
        shell.page.locator(".q-card").first.wait_for()
        report[path] = _grave(shell.page)
    assert not any(report.values()), {path: found for path, found in report.items() if found}


def test_a_board_card_moves_by_keyboard(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    title = f"keys {uuid.uuid4().hex[:6]}"
    with platform.api(admin_token) as client:
        task = client.post(tasks_api, json={"title": title}).json()

    def status() -> str:
        with platform.api(admin_token) as client:
            return str(client.get(f"{tasks_api}/{task['id']}").json()["status"])

    # a page of its own (the admin's session): the page the other tests walked through some thirty
    # module frames with could wait long for this frame's socket handshake
    page = admin.page.context.new_page()
    try:
        page.goto(f"{platform.url}/m/tasks/board")
        board = page.frame_locator('[data-testid="module-frame"][data-view="board"]')
        board.locator('[data-testid="kanban-card"]', has_text=title).wait_for(timeout=45_000)
        frame = page.locator('[data-testid="module-frame"][data-view="board"]').element_handle().content_frame()
        frame.wait_for_function("() => window.did_handshake === true", timeout=45_000)
        board.locator('[data-testid="kanban-card"]', has_text=title).focus()
        page.keyboard.press("ArrowRight")
        assert platform.until(lambda: status() == "in_progress"), status()
        moved = board.locator('[data-column="in_progress"] [data-testid="kanban-card"]', has_text=title)
        expect(moved).to_be_focused()  # drawn again, and still where the keyboard is
        page.keyboard.press("ArrowLeft")
        assert platform.until(lambda: status() == "todo"), status()
    finally:
        page.close()
    with platform.api(admin_token) as client:  # off the board: later tests drag cards on it
        assert client.delete(f"{tasks_api}/{task['id']}").status_code in (200, 204)
