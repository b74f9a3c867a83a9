"""Date-times in the person's own time zone, which only their browser knows: the API keeps
UTC instants, and the browser turns them into local wall time and back (`local_time.js`,
installed on every page). The grid's cells and editors and the forms' `MomentInput` use it,
so a time entered as 10:00 is stored as the instant that is 10:00 where the person is, and
shown as 10:00 again. A text that says a time (a bulk edit's preview, a record's history, the
conflict dialog, a phone's card) is made of parts, its instants marked (`instant`), and drawn
by `MomentText`, whose browser says each instant as a cell does."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nicegui import ui

SCRIPT = (Path(__file__).parent / "local_time.js").read_text()
EDITOR = "window.WebosMomentEditor"  # the grid's cell editor of a date-time (in `SCRIPT`)
READABLE = "(p) => window.webosLocalTime.readable(p.value)"  # the grid's cell of a date-time


def install() -> None:
    """Once per process: the helpers on every page, before any grid or form is drawn."""
    ui.add_body_html(f"<script>{SCRIPT}</script>", shared=True)


class MomentInput(ui.input, component="moment_input.js"):
    """A date-time field whose value is the UTC instant ("2031-12-24T15:00:00Z", "" for none);
    the person sees and types local time (the browser's picker), or reads it (`readable`)."""

    def __init__(self, label: str, *, readable: bool = False) -> None:
        super().__init__(label)
        if readable:
            self.props("readable")


Part = str | dict[str, str]  # a piece of text, or a UTC instant (`instant`)


def instant(value: Any) -> dict[str, str]:
    """A UTC instant inside a text: the browser says it in the person's local time, as a cell."""
    return {"instant": str(value)}


def text(*parts: Part | Iterable[Part]) -> list[Part]:
    """The parts of a text as one list (lists of parts spliced in), neighbouring strings joined."""
    found: list[Part] = []
    for part in parts:
        for piece in [part] if isinstance(part, str | dict) else part:
            if isinstance(piece, str) and found and isinstance(found[-1], str):
                found[-1] += piece
            elif piece != "":
                found.append(piece)
    return found


class MomentText(ui.element, component="moment_text.js"):
    """A label of `text` parts whose instants are said in the person's local time."""

    def __init__(self, parts: list[Part]) -> None:
        super().__init__()
        self._props["parts"] = parts
