"""A list of strings as chips: what a person types is added as items, and
"finance, q3" (then Enter) is two of them, never one item with a comma. Text typed
and not entered is not lost: leaving the field, or the form being checked (Save,
Apply), adds it the same way."""

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
        self.typed = ""  # what is in the input and not yet an item (Quasar's `input-value`, as it is typed)
        self.on("input-value", self._follow)
        self.on("blur", self.take_typed)

    def _event_args_to_value(self, e: GenericEventArguments) -> Any:
        if isinstance(e.args, list):
            e.args = [part for arg in e.args for part in (split(arg) if isinstance(arg, str) else [arg])]
        return super()._event_args_to_value(e)

    def _follow(self, e: GenericEventArguments) -> None:
        self.typed = str(e.args or "")

    def take_typed(self) -> None:
        """The typed text's items added as if Enter had been pressed, and the input emptied (on
        leaving the field, and before a form is checked: a click on Save may come before the blur)."""
        typed, self.typed = split(self.typed), ""
        if not typed:
            return
        self.run_method("updateInputValue", "", True)
        current = list(self.value or [])
        added = [item for item in typed if item not in current]
        if added:
            self.value = [*current, *[self._handle_new_value(item) for item in added]]  # as Enter adds them
