"""What the tasks module gives the shell: its own board component (announced,
not imported, by the host), the board's pure parts, and the palette's search."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import httpx

from webos_common.modules.shell_sdk import ShellComponent


async def test_the_manifest_announces_the_board_and_the_search(app: object, client: httpx.AsyncClient) -> None:
    manifest = app.state.manifest  # type: ignore[attr-defined]
    board, counter, panel = (ShellComponent.from_entry(entry) for entry in manifest.ui_components)
    assert (board.name, board.path, board.collection, board.permission, board.slot) == (
        "board", "webos_tasks.shell:board", "tasks", "tasks.read", None)
    assert (counter.path, counter.slot) == ("webos_tasks.shell:open_count", "sidebar")
    assert (panel.path, panel.slot, panel.collection) == ("webos_tasks.shell:record_actions", "record", "tasks")
    assert manifest.search_endpoint == "/api/tasks/search"


def test_the_host_never_imports_the_ui_code() -> None:
    """Loading the module as its host does names the board without importing NiceGUI code."""
    probe = ("import sys; from webos_modulehost.discovery import load; mod = load('tasks'); "
             "print(mod.shell_components[0].path, 'webos_tasks.shell' in sys.modules, 'nicegui' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["webos_tasks.shell:board", "False", "False"], out.stderr[-2000:]


async def test_search_finds_only_my_tasks_by_title(client: httpx.AsyncClient, alice: dict[str, str],
                                                   bob: dict[str, str]) -> None:
    for title, who in (("Buy oat milk", alice), ("Milk the cow", bob), ("Write report", alice)):
        assert (await client.post("/api/tasks/tasks", json={"title": title}, headers=who)).status_code == 201
    found = (await client.get("/api/tasks/search", params={"q": "milk"}, headers=alice)).json()["items"]
    assert [item["label"] for item in found] == ["Buy oat milk"]
    assert found[0]["path"] == f"/m/tasks/tasks/{found[0]['id']}"  # the task's record page
    missing = await client.get("/api/tasks/search", headers=alice)
    assert missing.status_code == 422 and "q" in missing.text


def test_board_columns_keep_workflow_order_and_filter_by_tag() -> None:
    from webos_tasks.shell import columns

    body = {"done": [{"id": "3", "tags": ["x"]}], "todo": [{"id": "1", "tags": ["x"]}, {"id": "2", "tags": []}]}
    assert list(columns(body)) == ["todo", "in_progress", "done"]
    assert {k: [c["id"] for c in v] for k, v in columns(body, tag="x").items()} == {
        "todo": ["1"], "in_progress": [], "done": ["3"]}
    assert columns(None) == {"todo": [], "in_progress": [], "done": []}


def test_due_text_flags_open_overdue_cards_only() -> None:
    from webos_tasks.shell import due_text

    now = datetime(2026, 12, 2, tzinfo=UTC)
    due = lambda iso: ["due ", {"instant": iso}]  # noqa: E731 - the browser says it in local time
    assert due_text({"due_date": "2026-12-01T09:00:00Z", "status": "todo"}, now) == (due("2026-12-01T09:00:00Z"), True)
    assert due_text({"due_date": "2026-12-01T09:00:00", "status": "done"}, now) == (due("2026-12-01T09:00:00"), False)
    assert due_text({"due_date": "2026-12-03T09:00:00+00:00", "status": "todo"}, now) == (
        due("2026-12-03T09:00:00+00:00"), False)
    assert due_text({"status": "todo"}, now) == ([], False)
    # overdue once the instant has passed, not once its date (UTC's, or anyone's) has
    evening = {"due_date": "2026-12-01T23:00:00Z", "status": "todo"}
    assert due_text(evening, datetime(2026, 12, 1, 23, 30, tzinfo=UTC))[1] is True
    assert due_text(evening, datetime(2026, 12, 1, 22, 30, tzinfo=UTC))[1] is False


def test_copy_from_takes_another_tasks_details_not_its_identity() -> None:
    from webos_tasks.shell import copied_from

    other = {"id": "t2", "title": "Template", "description": "steps", "priority": "high", "tags": ["x"],
             "status": "done", "attachment": "fs://local/a.txt", "assignees": ["u1"], "version": 3}
    assert copied_from(other) == {"description": "steps", "priority": "high", "tags": ["x"]}
    assert copied_from({"id": "t3", "title": "bare"}) == {}
