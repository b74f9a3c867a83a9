"""Date-times in the person's own time zone, which only their browser knows: the API keeps
UTC instants, and the browser turns them into local wall time and back (`local_time.js` of
`webos_common.modules.local_time`, installed on every page, the module views' too). The grid's
cells and editors and the forms' `MomentInput` use it, so a time entered as 10:00 is stored as
the instant that is 10:00 where the person is, and shown as 10:00 again. A text that says a
time (a bulk edit's preview, a record's history, the conflict dialog, a phone's card, a file's
dates, an API key's) is made of parts, its instants marked (`instant`), and drawn by
`MomentText`, whose browser says each instant as a cell does."""

from __future__ import annotations

from nicegui import ui

from webos_common.modules.local_time import SCRIPT, MomentText, Part, install, instant, moment, text

__all__ = ["EDITOR", "READABLE", "SCRIPT", "MomentInput", "MomentText", "Part", "install", "instant", "moment",
           "text"]

EDITOR = "window.WebosMomentEditor"  # the grid's cell editor of a date-time (in `SCRIPT`)
READABLE = "(p) => window.webosLocalTime.readable(p.value)"  # the grid's cell of a date-time


class MomentInput(ui.input, component="moment_input.js"):
    """A date-time field whose value is the UTC instant ("2031-12-24T15:00:00Z", "" for none);
    the person sees and types local time (the browser's picker), or reads it (`readable`)."""

    def __init__(self, label: str, *, readable: bool = False) -> None:
        super().__init__(label)
        if readable:
            self.props("readable")
