"""The shell SDK's manifest form: what the module host writes, the shell reads back."""

from __future__ import annotations

import pytest

from webos_common.modules.shell_sdk import ShellApiError, ShellComponent


async def _board(ctx: object) -> None:
    return None


def test_a_component_round_trips_through_its_manifest_entry() -> None:
    component = ShellComponent(name="board", target="webos_tasks.shell:board", label="Board",
                               icon="view_kanban", collection="tasks", permission="tasks.read")
    entry = component.entry()
    assert entry == ("board=webos_tasks.shell:board;label=Board;icon=view_kanban;collection=tasks;"
                     "permission=tasks.read")
    assert ShellComponent.from_entry(entry) == component


def test_a_function_target_is_named_by_its_import_path() -> None:
    component = ShellComponent(name="b", target=_board)
    assert component.path == f"{__name__}:_board"
    assert ShellComponent.from_entry(component.entry()).path == component.path


@pytest.mark.parametrize("name, target", [("my board", "a.b:c"), ("board", "no_function_named")])
def test_bad_names_and_targets_are_refused(name: str, target: str) -> None:
    with pytest.raises(ValueError, match="shell component"):
        ShellComponent(name=name, target=target)


def test_api_errors_carry_the_platforms_message() -> None:
    assert ShellApiError(422, {"error": {"message": "title: too short"}}).message == "title: too short"
    assert ShellApiError(404, {"detail": "Not Found"}).message == "Not Found"
    assert ShellApiError(502, "bad gateway").message == "HTTP 502"


def test_a_slot_component_round_trips_and_a_bad_slot_is_refused() -> None:
    counter = ShellComponent(name="count", target="m.shell:count", slot="sidebar")
    assert ShellComponent.from_entry(counter.entry()) == counter
    panel = ShellComponent(name="workflow", target="m.shell:workflow", collection="items", slot="record")
    assert ShellComponent.from_entry(panel.entry()) == panel  # a record page's panel
    with pytest.raises(ValueError, match="slot must be one of"):
        ShellComponent(name="count", target="m.shell:count", slot="nowhere")


def test_a_keyboard_move_lands_in_the_next_column_and_never_off_the_board() -> None:
    from webos_common.modules.shell_sdk import board_shift, focus_card

    columns = ["todo", "in_progress", "done"]
    assert board_shift(columns, "todo", 1) == "in_progress"
    assert board_shift(columns, "done", -1) == "in_progress"
    assert board_shift(columns, "done", 1) is None and board_shift(columns, "todo", -1) is None
    assert board_shift(columns, "archived", 1) is None  # a card in no column stays put
    assert '[data-column=\\"done\\"] [data-id=\\"t1\\"]' in focus_card("done", "t1")


def test_a_pick_request_is_checked_field_by_field() -> None:
    """A PICK comes from a page: the shell reads nothing it has not checked, and says which field is wrong."""
    from webos_common.modules.shell_frame import PickRequest, pick_request

    ask = lambda kind, **options: {"request": "r1", "kind": kind, "options": options}  # noqa: E731
    assert pick_request(ask("file", start="fs://local/home/u/", accept=[".PDF", ".png"])) == PickRequest(
        "r1", "file", "fs://local/home/u/", (".pdf", ".png"))
    assert pick_request(ask("user")) == PickRequest("r1", "user")
    assert pick_request(ask("record", collection="orders/orders")).collection == "orders/orders"
    assert pick_request(PickRequest("r2", "record", collection="tasks").message("f1")).collection == "tasks"
    bad = [("message", "not a dict"), ("request", {"request": "a b", "kind": "file"}),
           ("request", {"kind": "file"}), ("kind", ask("folder")), ("options", {**ask("user"), "options": [1]}),
           ("options.start", ask("file", start="/etc/passwd")), ("options.start", ask("user", start="fs://l/")),
           ("options.accept", ask("file", accept=["pdf"])), ("options.accept", ask("file", accept=[".x"] * 21)),
           ("options.accept", ask("file", accept=[3])),
           ("options.accept", ask("record", collection="t", accept=[".a"])),
           ("options.collection", ask("record")), ("options.collection", ask("record", collection="../auth/users")),
           ("options.collection", ask("user", collection="tasks"))]
    for field, message in bad:
        with pytest.raises(ValueError, match=f"^{field.replace('.', '[.]')}:"):
            pick_request(message)


def test_the_shells_answer_is_what_the_view_gets() -> None:
    from webos_common.modules.shell_sdk import PickedFile, PickedRecord, PickedUser, picked

    assert picked("file", {"value": {"urn": "fs://local/a/b.pdf", "name": "b.pdf"}}) == PickedFile(
        "fs://local/a/b.pdf", "b.pdf")
    assert picked("file", {"value": {"urn": "fs://local/a/c.txt"}}) == PickedFile("fs://local/a/c.txt", "c.txt")
    assert picked("user", {"value": {"id": "u1", "display_name": "Ann"}}) == PickedUser("u1", "Ann")
    assert picked("record", {"value": {"id": "7", "title": "Buy milk", "collection": "tasks/tasks"}}) == \
        PickedRecord("7", "Buy milk", "tasks/tasks")
    for cancelled in ({"value": None, "error": None}, {"timeout": True}, None, "junk"):
        assert picked("user", cancelled) is None  # the person closed it, never answered, or the page went
    with pytest.raises(ShellApiError) as refused:
        picked("record", {"value": None, "error": {"status": 403, "message": "You may not read Orders."}})
    assert (refused.value.status, refused.value.message) == (403, "You may not read Orders.")
    with pytest.raises(ShellApiError) as odd:
        picked("user", {"error": {"status": "x"}})
    assert (odd.value.status, odd.value.message) == (400, "the picker failed")
    with pytest.raises(ShellApiError, match="has no urn"):
        picked("file", {"value": {"name": "b.pdf"}})


def test_the_module_page_waits_for_the_answer_from_its_parent_only() -> None:
    from webos_common.modules.shell_frame import PICK, PICKED, PickRequest, pick_js

    script = pick_js("tasks-board-1", PickRequest("r9", "file", accept=(".pdf",)), wait=60)
    assert f'"type": "{PICK}", "id": "tasks-board-1", "request": "r9"' in script
    assert "e.origin !== location.origin" in script and "e.source !== window.parent" in script
    assert f'e.data.type !== "{PICKED}"' in script and "e.data.request !== ask.request" in script
    assert "postMessage(ask, location.origin)" in script and "60000" in script
