"""Date-times in the person's own time zone, which only their browser knows: the API keeps
UTC instants, and the browser turns them into local wall time and back (`local_time.js`,
installed on every page). The grid's cells and editors and the forms' `MomentInput` use it,
so a time entered as 10:00 is stored as the instant that is 10:00 where the person is, and
shown as 10:00 again."""

from __future__ import annotations

from pathlib import Path

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
