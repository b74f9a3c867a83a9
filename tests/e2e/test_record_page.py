"""Record pages in a real browser: `/m/tasks/tasks/<id>` opened from the palette, a grid row,
a board card and a notification; edited (the history grows, people by their display name),
moved by the tasks module's own panel, trashed and restored; an unknown id is "not found"."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _on_record_page(shell: Any, task: dict[str, Any]) -> None:
    shell.page.wait_for_url(re.compile(rf"/m/tasks/tasks/{task['id']}$"))
    expect(shell.page.get_by_test_id("record-title")).to_have_text(task["title"])


def test_the_palette_opens_a_record_and_an_edit_grows_its_history(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    task = platform.create_task(admin_token, f"record {uuid.uuid4().hex[:6]}")
    admin.open("/")
    admin.palette(task["title"])
    admin.page.get_by_test_id("palette-item").filter(has_text=task["title"]).click()
    _on_record_page(admin, task)
    history = admin.page.get_by_test_id("history-entry")
    expect(history).to_have_count(1)
    me = platform.get_ok(admin_token, "/api/auth/me")
    expect(history.first).to_contain_text(f"{me.get('display_name') or me['username']} created it")
    expect(admin.page.locator('[data-field="title"] input, input[data-field="title"]')).to_have_attribute(
        "readonly", re.compile(".*"))  # view mode
    admin.page.get_by_test_id("record-edit").click()
    admin.page.locator('input[data-field="title"]').fill(f"{task['title']} v2")
    admin.page.get_by_test_id("record-save").click()
    expect(history).to_have_count(2)  # the event log has the change: who, when, before → after
    expect(history.first).to_contain_text(f"Title: {task['title']} → {task['title']} v2")
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["title"] == f"{task['title']} v2"
    admin.shot("record-page")


def test_a_due_date_emptied_on_the_record_page_is_saved_as_none(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    task = platform.create_task(admin_token, f"undue {uuid.uuid4().hex[:6]}")
    due = lambda: platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["due_date"]  # noqa: E731
    admin.open(f"/m/tasks/tasks/{task['id']}")
    field = admin.page.locator('input[data-field="due_date"]')
    admin.page.get_by_test_id("record-edit").click()
    field.fill("2031-05-06T07:08")
    admin.page.get_by_test_id("record-save").click()
    expect(admin.page.get_by_test_id("record-edit")).to_be_visible()  # saved: the view mode again
    assert due() is not None
    admin.page.get_by_test_id("record-edit").click()
    field.fill("")  # the person empties it: no due date
    admin.page.get_by_test_id("record-save").click()
    expect(admin.page.get_by_test_id("record-edit")).to_be_visible()
    assert platform.until(lambda: due() is None), due()
    expect(field).to_have_value("")
    expect(admin.page.get_by_test_id("history-entry").first).to_contain_text("Due Date:")
    expect(admin.page.get_by_test_id("history-entry").first).to_contain_text("→ —")
    admin.open(f"/m/tasks/tasks/{task['id']}")  # and so it stays
    expect(field).to_have_value("")


def test_a_stale_save_on_the_record_page_opens_the_conflict_dialog(
        admin_in_new_york: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    """The dialog says when they saved, and both due dates, in the person's own time (New York)."""
    admin = admin_in_new_york
    task = platform.create_task(admin_token, f"stale {uuid.uuid4().hex[:6]}", due_date="2031-12-24T15:45:00Z")
    admin.open(f"/m/tasks/tasks/{task['id']}")
    admin.page.get_by_test_id("record-edit").click()
    with platform.api(admin_token) as client:  # someone else saves first
        theirs = client.patch(f"/api/tasks/tasks/{task['id']}",
                              json={"title": "theirs", "due_date": "2031-12-25T15:45:00Z"})
        assert theirs.status_code == 200
    admin.page.locator('input[data-field="title"]').fill("mine")
    admin.page.locator('input[data-field="due_date"]').fill("2031-12-24T10:00")  # New York's 10:00: 15:00 UTC
    admin.page.get_by_test_id("record-save").click()
    dialog = admin.page.get_by_test_id("conflict-dialog")
    who = dialog.get_by_test_id("conflict-who")
    expect(who).to_contain_text("changed this record")
    expect(who).to_contain_text(admin.local_time(theirs.json()["updated_at"]))
    expect(who).not_to_contain_text("UTC")
    dialog.get_by_test_id("conflict-review").click()
    mine, saved = admin.local_time("2031-12-24T15:00:00Z"), admin.local_time("2031-12-25T15:45:00Z")
    expect(dialog.get_by_test_id("conflict-diff").filter(has_text="Due Date")).to_have_text(
        f"Due Date: yours {mine} — saved {saved}")
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["title"] == "theirs"
    dialog.get_by_test_id("conflict-overwrite").click()
    title = lambda: platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["title"]  # noqa: E731
    assert platform.until(lambda: title() == "mine"), title()


def test_a_grid_row_opens_its_record_and_trash_and_restore_work_there(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    task = platform.create_task(admin_token, f"row {tag}")
    admin.open(f"/m/tasks?q=row%20{tag}")
    admin.page.locator(".ag-row", has_text=f"row {tag}").get_by_test_id("row-open").click()
    _on_record_page(admin, task)
    admin.page.get_by_test_id("record-delete").click()
    admin.page.get_by_test_id("record-trashed").wait_for(timeout=45_000)  # still shown, from its last logged state
    with platform.api(admin_token) as client:
        assert client.get(f"/api/tasks/tasks/{task['id']}").status_code == 404
    expect(admin.page.get_by_test_id("history-entry").first).to_contain_text("moved it to the trash")
    admin.page.get_by_test_id("record-restore").click()
    admin.page.get_by_test_id("record-edit").wait_for()
    expect(admin.page.get_by_test_id("history-entry").first).to_contain_text("restored it from the trash")
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["deleted_at"] is None


def test_a_board_card_opens_its_record_and_the_modules_panel_moves_it(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    task = platform.create_task(admin_token, f"card {uuid.uuid4().hex[:6]}")
    admin.open("/m/tasks/board")
    board = admin.page.frame_locator('[data-testid="module-frame"][data-module="tasks"][data-view="board"]')
    board.locator('[data-testid="kanban-card"]', has_text=task["title"]).click(timeout=45_000)
    _on_record_page(admin, task)
    panel = admin.page.frame_locator('[data-testid="module-frame"][data-view="record_actions"]')
    expect(panel.get_by_test_id("task-status")).to_have_text("Status: To do", timeout=45_000)
    panel.locator('[data-testid="task-move"][data-to="done"]').click()
    expect(panel.get_by_test_id("task-status")).to_have_text("Status: Done", timeout=45_000)
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["status"] == "done"


def test_a_notification_follows_its_link_to_the_record(
        shell: Any, platform: Any, admin_token: str, member: tuple[str, str], tasks_api: str) -> None:
    member_token = platform.login(*member)
    me = platform.get_ok(member_token, "/api/auth/me")
    task = platform.create_task(admin_token, f"assigned {uuid.uuid4().hex[:6]}")
    with platform.api(admin_token) as client:  # the tasks module notifies a new assignee
        assert client.put(f"/api/tasks/tasks/{task['id']}/assignees",
                          json={"assignees": [me["id"]]}).status_code == 200
    notes = lambda: platform.get_ok(member_token, "/api/events/notifications")["items"]  # noqa: E731
    # a notification travels tasks → bus → events; late in a loaded suite that took over 20 s
    assert platform.until(lambda: any(n.get("message") == task["title"] for n in notes()), timeout=60), notes()
    shell.sign_in(*member, "/notifications")
    shell.page.get_by_test_id("notification-link").filter(has_text="assigned a task to you").first.click()
    _on_record_page(shell, task)


def test_an_unknown_id_is_a_plain_not_found_page(admin: Any, tasks_api: str) -> None:
    for rid in ("0123456789abcdef01234567", "not-an-id"):
        admin.open(f"/m/tasks/tasks/{rid}")
        expect(admin.page.get_by_test_id("record-missing")).to_contain_text("No task with the id")
        expect(admin.page.get_by_test_id("page-title")).to_have_text("No such task")
    admin.open("/m/tasks/nothing/0123456789abcdef01234567")
    expect(admin.page.get_by_test_id("record-missing")).to_contain_text("no collection")
