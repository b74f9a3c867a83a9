"""A module view asks the shell for its pickers (`ctx.pick_file`, `ctx.pick_user`,
`ctx.pick_record`): the tasks module's record panel, drawn by its own host in a frame,
attaches a file, assigns a person and copies another task, each chosen in the shell's
own dialog in the top page; a picker closed without a choice is None to the view."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANEL = '[data-testid="module-frame"][data-view="record_actions"]'


def _panel(admin: Any, task: dict[str, Any]) -> Any:
    """The task's record page, and its module panel once drawn."""
    admin.page.wait_for_url(re.compile(rf"/m/tasks/tasks/{task['id']}$"))
    panel = admin.page.frame_locator(PANEL)
    expect(panel.get_by_test_id("task-status")).to_be_visible(timeout=45_000)
    return panel


def test_a_module_view_attaches_a_file_picked_in_the_shells_dialog_and_a_cancel_is_none(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"pick-{tag}.txt"
    with platform.api(admin_token) as client:
        home = client.get("/api/storage/sources").json()["home"]
        put = client.put("/api/storage/files/content", params={"urn": f"{home}{name}"}, content=b"attached\n",
                         headers={"Content-Type": "text/plain"})
        assert put.status_code in (200, 201), put.text
    urn = f"{home}{name}"
    task = platform.create_task(admin_token, f"attach {tag}")
    admin.open(f"/m/tasks/tasks/{task['id']}")
    panel = _panel(admin, task)
    expect(panel.get_by_test_id("task-attachment")).to_have_text("Attachment: none")

    # -- the person closes the shell's dialog: the view is told None ------------------------------
    panel.get_by_test_id("task-attach").click()
    dialog = admin.page.get_by_test_id("file-picker")  # in the top page, not in the frame
    expect(dialog.locator(f'[data-testid="picker-file"][data-name="{name}"]')).to_be_visible()
    dialog.get_by_test_id("picker-cancel").click()
    expect(panel.get_by_test_id("task-note")).to_have_text("No file attached: the picker was closed.")
    expect(dialog).to_have_count(0)
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["attachment"] is None

    # -- and picks a file: the view stores its fs:// URN on the task -----------------------------
    panel.get_by_test_id("task-attach").click()
    expect(dialog).to_be_visible()
    admin.shot("frame-file-picker")
    dialog.locator(f'[data-testid="picker-file"][data-name="{name}"]').click()
    # the page is drawn again with the change (a whole page and its frames: slow on a loaded machine)
    expect(panel.get_by_test_id("task-attachment")).to_have_text(f"Attachment: {name}", timeout=45_000)
    expect(panel.get_by_test_id("task-attachment")).to_have_attribute("data-urn", urn)
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["attachment"] == urn


def test_a_module_view_assigns_a_person_and_copies_a_record_picked_in_the_shell(
        admin: Any, platform: Any, admin_token: str, member: tuple[str, str], tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    template = platform.create_task(admin_token, f"template {tag}", description=f"steps {tag}", priority="high",
                                    tags=[f"t{tag}"])
    task = platform.create_task(admin_token, f"copy into {tag}")
    person = next(p for p in platform.get_ok(admin_token, f"/api/auth/directory/people?q={member[0]}")["items"]
                  if p["id"])
    shown = person.get("display_name") or person["id"]
    admin.open(f"/m/tasks/tasks/{task['id']}")
    panel = _panel(admin, task)
    expect(panel.get_by_test_id("task-assignees")).to_have_text("Assigned to: nobody")

    # -- a person, from the shell's directory picker ----------------------------------------------
    # the shell answers a frame's own messages only: one naming the panel's frame but sent by another
    # window opens nothing (had it opened a picker, the panel's own request would be refused as busy)
    admin.page.evaluate("""(id) => window.postMessage({type: 'webos-frame-pick', id: id, request: 'forged',
        kind: 'user', options: {}}, location.origin)""", admin.page.locator(PANEL).get_attribute("data-frame-id"))
    panel.get_by_test_id("task-assign").click()
    dialog = admin.page.get_by_test_id("frame-user-picker")
    expect(dialog).to_be_visible()
    admin.choose(dialog.get_by_test_id("user-picker"), shown)
    expect(panel.get_by_test_id("task-assignees")).to_have_text(f"Assigned to: {shown}", timeout=45_000)
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["assignees"] == [person["id"]]

    # -- a record of the collection, searched as the person -----------------------------------------
    panel.get_by_test_id("task-copy-from").click()
    dialog = admin.page.get_by_test_id("frame-record-picker")
    expect(dialog).to_be_visible()
    admin.shot("frame-record-picker")
    admin.choose(dialog.get_by_test_id("record-picker"), template["title"])
    expect(dialog).to_have_count(0)
    copied = lambda: platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")  # noqa: E731
    assert platform.until(lambda: copied()["description"] == f"steps {tag}"), copied()
    assert (copied()["priority"], copied()["tags"], copied()["title"]) == ("high", [f"t{tag}"], task["title"])
