"""A list of strings as chips: what a person types is added as items, and
"finance, q3" (then Enter) is two of them, never one item with a comma."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.events import GenericEventArguments


def split(text: str) -> list[str]:
    """ "finance, q3" -> ["finance", "q3"]: a comma separates items; blanks are dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


class ListSelect(ui.select):
    """`ui.select(multiple=True)` with chips and new values (`add-unique`), each typed entry
    split at its commas."""

    def __init__(self, options: list[Any] | dict[Any, str], *, label: str | None = None,
                 value: list[Any] | None = None) -> None:
        super().__init__(options, label=label, value=value or [], multiple=True, new_value_mode="add-unique")
        self.props("use-chips hide-dropdown-icon")

    def _event_args_to_value(self, e: GenericEventArguments) -> Any:
        if isinstance(e.args, list):
            e.args = [part for arg in e.args for part in (split(arg) if isinstance(arg, str) else [arg])]
        return super()._event_args_to_value(e)
