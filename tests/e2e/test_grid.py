"""The DataExplorer grid in a real browser, over the tasks collection (every rule here comes from
the collection's JSON schema, none from tasks): a refused cell edit is said at the cell and
writes nothing, a bulk edit of any field changes exactly the rows its preview listed, enum
values read as labels and times in full, and a list typed "finance, q3" is two items."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _row(admin: Any, text: str) -> Any:
    return admin.page.locator(".ag-center-cols-container .ag-row", has_text=text)


def _edit(admin: Any, cell: Any, text: str) -> None:
    cell.dblclick()
    editor = admin.page.locator(".ag-cell-inline-editing input")
    editor.fill(text)
    editor.press("Enter")


def test_an_invalid_cell_edit_is_said_at_the_cell_and_writes_nothing(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    task = platform.create_task(admin_token, f"cell {tag}")
    admin.open(f"/m/tasks?q=cell%20{tag}")
    cell = _row(admin, f"cell {tag}").locator('[col-id="title"]')
    error = admin.page.get_by_test_id("cell-error")
    _edit(admin, cell, "")  # refused before any request: a task must have a title
    expect(error).to_have_text("Title: Required")
    expect(error).to_have_attribute("data-col", "title")
    expect(cell).to_have_text(f"cell {tag}")  # the saved value is back
    admin.shot("grid-cell-error")
    _edit(admin, cell, "   ")  # passes the shell, refused by the API (422): its message, at the cell
    expect(error).to_have_text("Title: String should have at least 1 character")
    expect(cell).to_have_attribute("aria-invalid", "true")
    expect(cell).to_have_text(f"cell {tag}")
    expect(admin.page.locator(".q-notification", has_text="Not saved")).to_have_count(0)
    after = platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")
    assert (after["title"], after["version"]) == (task["title"], task["version"])  # nothing was written


def _bulk_dialog(admin: Any, search: str, count: int, field: str) -> Any:
    """The rows found by `search`, all selected, and the bulk dialog open on `field`."""
    admin.open(f"/m/tasks?q={search.replace(' ', '%20')}")
    rows = admin.page.locator(".ag-center-cols-container .ag-row")
    expect(rows).to_have_count(count)
    for checkbox in rows.locator("input[type=checkbox]").all():
        checkbox.check()
    admin.page.get_by_test_id("bulk-edit").click()
    dialog = admin.page.get_by_test_id("bulk-dialog")
    dialog.get_by_test_id("bulk-field").click()
    admin.page.get_by_role("option", name=field, exact=True).click()
    return dialog


def test_bulk_edit_of_a_field_changes_exactly_the_previewed_rows(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    tasks = [platform.create_task(admin_token, f"bulkp {tag} {n}", priority="high" if n == 2 else "low")
             for n in range(3)]
    dialog = _bulk_dialog(admin, f"bulkp {tag}", 3, "Title")
    dialog.get_by_test_id("bulk-value").fill("   ")  # the API refuses it (422): said at the field
    dialog.get_by_test_id("bulk-apply").click()
    expect(dialog.locator(".q-field--error")).to_contain_text("String should have at least 1 character")
    dialog.get_by_test_id("bulk-field").click()
    admin.page.get_by_role("option", name="Priority", exact=True).click()
    dialog.get_by_test_id("bulk-value").click()
    admin.page.get_by_role("option", name="High", exact=True).click()
    preview = dialog.get_by_test_id("bulk-preview")
    expect(dialog.get_by_test_id("bulk-count")).to_have_text("2 row(s) will change")
    expect(preview).to_contain_text("Priority: Low → High")
    expect(preview).not_to_contain_text(f"bulkp {tag} 2")
    admin.shot("bulk-edit")
    dialog.get_by_test_id("bulk-apply").click()
    expect(admin.page.locator(".q-notification", has_text="Updated")).to_contain_text("Updated 2 row(s)")
    after = [platform.get_ok(admin_token, f"/api/tasks/tasks/{t['id']}") for t in tasks]
    assert [a["priority"] for a in after] == ["high"] * 3
    assert [a["version"] - t["version"] for a, t in zip(after, tasks, strict=True)] == [1, 1, 0]  # the third untouched


def test_enum_labels_and_full_local_times(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    due = "2031-12-24T15:45:00Z"
    platform.create_task(admin_token, f"labels {tag} a", status="in_progress", priority="urgent", due_date=due)
    platform.create_task(admin_token, f"labels {tag} b")
    admin.open(f"/m/tasks?q=labels%20{tag}")
    row = _row(admin, f"labels {tag} a")
    expect(row.locator('[col-id="status"]')).to_have_text("In progress")  # the value made readable
    expect(row.locator('[col-id="priority"]')).to_have_text("Urgent")
    expect(_row(admin, f"labels {tag} b").locator('[col-id="status"]')).to_have_text("To do")  # the schema's name
    local = admin.page.evaluate(  # the browser's own local time, in full
        "(due) => new Date(due).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'})", due)
    assert "2031" in local and ":45" in local
    cell = row.locator('[col-id="due_date"]')
    expect(cell).to_have_text(local)
    assert cell.evaluate("(el) => el.scrollWidth <= el.clientWidth")  # shown whole, not cut to "Dec 24, 20…"
    admin.shot("grid")


def test_a_list_typed_with_a_comma_saves_as_two_items(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    first = platform.create_task(admin_token, f"list {tag} 1", tags=["old"])
    second = platform.create_task(admin_token, f"list {tag} 2")
    admin.open(f"/m/tasks?q=list%20{tag}")
    cell = _row(admin, f"list {tag} 1").locator('[col-id="tags"]')
    expect(cell).to_have_text("old")
    _edit(admin, cell, "finance, q3")
    tags = lambda task: platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["tags"]  # noqa: E731
    assert platform.until(lambda: tags(first) == ["finance", "q3"]), tags(first)
    expect(cell).to_have_text("finance, q3")
    _row(admin, f"list {tag} 2").locator("input[type=checkbox]").check()  # and in the bulk edit's chips
    admin.page.get_by_test_id("bulk-edit").click()
    dialog = admin.page.get_by_test_id("bulk-dialog")
    dialog.get_by_test_id("bulk-field").click()
    admin.page.get_by_role("option", name="Tags", exact=True).click()
    dialog.get_by_test_id("bulk-value").click()
    admin.page.keyboard.type("finance, q3")
    admin.page.keyboard.press("Enter")
    expect(dialog.get_by_test_id("bulk-preview")).to_contain_text("Tags: — → finance, q3")
    dialog.get_by_test_id("bulk-apply").click()
    expect(admin.page.locator(".q-notification", has_text="Updated")).to_contain_text("Updated 1 row(s)")
    assert tags(second) == ["finance", "q3"]


def test_times_are_entered_and_shown_in_the_persons_own_time_zone(
        admin_in_new_york: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    """In New York (UTC-5 in December) 10:00 entered is 15:00 UTC stored, and reads 10:00 again."""
    shell, tag = admin_in_new_york, uuid.uuid4().hex[:6]
    task = platform.create_task(admin_token, f"tz {tag}", due_date="2031-12-24T15:45:00Z")
    due = lambda: platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["due_date"]  # noqa: E731
    local = shell.local_time
    assert shell.page.evaluate("() => new Date('2031-12-24T15:45:00Z').getHours()") == 10  # New York's 10:45
    shell.open(f"/m/tasks/tasks/{task['id']}")  # the record page's form
    field = shell.page.locator('input[data-field="due_date"]')
    expect(field).to_have_value(local("2031-12-24T15:45:00Z"))  # the view mode: local, as the grid says it
    shell.page.get_by_test_id("record-edit").click()
    expect(field).to_have_value("2031-12-24T10:45")
    field.fill("2031-12-24T10:00")
    shell.page.get_by_test_id("record-save").click()
    expect(shell.page.locator(".q-notification", has_text="Saved")).to_be_visible()
    assert due() == "2031-12-24T15:00:00Z"
    expect(field).to_have_value(local("2031-12-24T15:00:00Z"))
    change = shell.page.get_by_test_id("history-entry").first  # the history says both times, and its own, locally
    expect(change).to_contain_text(f"Due Date: {local('2031-12-24T15:45:00Z')} → {local('2031-12-24T15:00:00Z')}")
    logged = platform.get_ok(admin_token, f"/api/events/events/records/{task['id']}")["items"][0]["timestamp"]
    expect(change).to_contain_text(local(logged))
    expect(change).not_to_contain_text("UTC")
    shell.page.get_by_test_id("record-edit").click()
    expect(field).to_have_value("2031-12-24T10:00")  # shown back as entered
    shell.open(f"/m/tasks?q=tz%20{tag}")  # and a cell of the grid
    cell = _row(shell, f"tz {tag}").locator('[col-id="due_date"]')
    expect(cell).to_have_text(local("2031-12-24T15:00:00Z"))
    cell.dblclick()
    editor = shell.page.locator(".ag-cell-inline-editing input")
    expect(editor).to_have_value("2031-12-24T10:00")
    editor.fill("2031-12-25T09:30")
    editor.press("Enter")
    assert platform.until(lambda: due() == "2031-12-25T14:30:00Z"), due()
    expect(cell).to_have_text(local("2031-12-25T14:30:00Z"))


def test_a_bulk_edits_preview_says_times_in_the_persons_own_time_zone(
        admin_in_new_york: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    """In New York the preview reads as the cells do: the time now and the time entered, both local."""
    shell, tag = admin_in_new_york, uuid.uuid4().hex[:6]
    task = platform.create_task(admin_token, f"bulktz {tag}", due_date="2031-12-24T15:45:00Z")
    dialog = _bulk_dialog(shell, f"bulktz {tag}", 1, "Due Date")
    dialog.get_by_test_id("bulk-value").fill("2031-12-26T08:00")  # New York's 8:00: 13:00 UTC
    preview = dialog.get_by_test_id("bulk-preview")
    before, after = shell.local_time("2031-12-24T15:45:00Z"), shell.local_time("2031-12-26T13:00:00Z")
    expect(preview).to_contain_text(f"Due Date: {before} → {after}")
    expect(preview).not_to_contain_text("UTC")
    dialog.get_by_test_id("bulk-apply").click()
    expect(shell.page.locator(".q-notification", has_text="Updated")).to_contain_text("Updated 1 row(s)")
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["due_date"] == "2031-12-26T13:00:00Z"


def test_bulk_edit_clears_an_optional_field_and_never_a_required_one(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    tasks = [platform.create_task(admin_token, f"bulkc {tag} {n}", **({"due_date": "2031-03-04T09:00:00Z"}
                                                                      if n < 2 else {})) for n in range(3)]
    dialog = _bulk_dialog(admin, f"bulkc {tag}", 3, "Title")
    expect(dialog.get_by_test_id("bulk-clear")).to_have_count(0)  # a task must have a title
    dialog.get_by_test_id("bulk-field").click()
    admin.page.get_by_role("option", name="Due Date", exact=True).click()
    dialog.get_by_test_id("bulk-clear").click()
    expect(dialog.get_by_test_id("bulk-count")).to_have_text("2 row(s) will change")  # the third has none
    expect(dialog.get_by_test_id("bulk-preview")).to_contain_text("→ —")
    dialog.get_by_test_id("bulk-apply").click()
    expect(admin.page.locator(".q-notification", has_text="Updated")).to_contain_text("Updated 2 row(s)")
    after = [platform.get_ok(admin_token, f"/api/tasks/tasks/{t['id']}") for t in tasks]
    assert [a["due_date"] for a in after] == [None] * 3
    assert [a["version"] - t["version"] for a, t in zip(after, tasks, strict=True)] == [1, 1, 0]


def test_tag_text_typed_without_enter_is_kept_on_save(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    task = platform.create_task(admin_token, f"chips {uuid.uuid4().hex[:6]}", tags=["old"])
    admin.open(f"/m/tasks/tasks/{task['id']}")
    admin.page.get_by_test_id("record-edit").click()
    chips = admin.page.locator('[data-field="tags"] input, input[data-field="tags"]')
    chips.click()
    admin.page.keyboard.type("finance, q3")  # no Enter: Save is clicked with the text still typed
    admin.page.get_by_test_id("record-save").click()
    expect(admin.page.locator(".q-notification", has_text="Saved")).to_be_visible()
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["tags"] == ["old", "finance", "q3"]


def test_bulk_edit_of_every_row_found_beyond_the_page_and_one_request(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    """The whole page selected, the dialog offers every row the search finds: 520 rows, more than
    one request may change (500), previewed as one count and sent in two groups at their versions."""
    tag, before = uuid.uuid4().hex[:6], {}
    with platform.api(admin_token) as client:
        for n in range(520):
            made = client.post("/api/tasks/tasks", json={"title": f"bulka {tag} {n:03d}",
                                                         "priority": "high" if n == 7 else "low"})
            assert made.status_code == 201, made.text
            before[made.json()["id"]] = made.json()["version"]
    admin.open(f"/m/tasks?q=bulka%20{tag}")
    expect(admin.page.get_by_test_id("explorer-page")).to_contain_text("520 rows")
    admin.page.locator(".ag-header-select-all input[type=checkbox]").check()  # the page's 25 (20 drawn)
    admin.page.get_by_test_id("bulk-edit").click()
    dialog = admin.page.get_by_test_id("bulk-dialog")
    expect(dialog).to_contain_text("Change 25 selected row(s)")
    dialog.get_by_test_id("bulk-field").click()
    admin.page.get_by_role("option", name="Priority", exact=True).click()
    dialog.get_by_test_id("bulk-value").click()
    admin.page.get_by_role("option", name="High", exact=True).click()
    expect(dialog.get_by_test_id("bulk-count")).to_have_text(re.compile(r"^2[45] row\(s\) will change"))  # the page's
    every = dialog.get_by_test_id("bulk-all")
    expect(every).to_contain_text("All 520 rows the search finds")
    every.click()
    expect(dialog.get_by_test_id("bulk-count")).to_have_text("519 row(s) will change", timeout=30_000)
    expect(dialog.get_by_test_id("bulk-preview")).to_contain_text("… and 319 more")
    admin.shot("bulk-all-found")
    dialog.get_by_test_id("bulk-apply").click()
    expect(admin.page.locator(".q-notification", has_text="Updated")).to_contain_text("Updated 519 row(s)",
                                                                                      timeout=60_000)
    after: dict[str, dict[str, Any]] = {}
    while len(after) < 520:
        page = platform.get_ok(admin_token, f"/api/tasks/tasks?q=bulka%20{tag}&fields=priority,version"
                                            f"&skip={len(after)}&limit=200")
        assert page["items"], len(after)
        after.update((row["id"], row) for row in page["items"])
    assert set(after) == set(before) and {row["priority"] for row in after.values()} == {"high"}
    steps = sorted(after[i]["version"] - before[i] for i in before)
    assert steps == [0] + [1] * 519  # each changed once; the one already high untouched


def test_the_first_page_of_rows_comes_with_the_page_and_a_wide_screen_builds_no_cards(
        admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    """The table's HTML itself carries its first page (no second round trip once the page's socket
    is up), and the phone's cards are not built on a wide screen, where they never show."""
    tag = uuid.uuid4().hex[:6]
    platform.create_task(admin_token, f"inline {tag}")
    admin.open("/m/tasks")  # signed in: the browser's context holds the session
    html = admin.page.request.get(f"{platform.url}/m/tasks?q=inline%20{tag}").text()
    assert f"inline {tag}" in html and "1 rows" in html  # the row and the pager's count, in the HTML
    admin.open(f"/m/tasks?q=inline%20{tag}")
    expect(_row(admin, f"inline {tag}")).to_be_visible()
    expect(admin.page.get_by_test_id("explorer-card")).to_have_count(0)
    admin.page.set_viewport_size({"width": 390, "height": 844})  # narrowed: the cards are drawn
    expect(admin.page.get_by_test_id("explorer-card").filter(has_text=f"inline {tag}")).to_be_visible()
