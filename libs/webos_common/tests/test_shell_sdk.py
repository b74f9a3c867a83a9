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
