"""Date-times in the person's own time zone, which only their browser knows, for every NiceGUI
page the platform draws: the shell's own, and a module's views in its host (inside the shell's
frame). The API keeps UTC instants; `local_time.js` (`window.webosLocalTime`, installed on
every page of both) turns them into local wall time and back, so the shell's cells and forms
and a module's cards say a time the same way. A text that says a time is made of parts, its
instants marked (`instant`), and drawn by `MomentText`, whose browser says each instant there.

Imports NiceGUI: for the shell, the module host and a module's views, never a service."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nicegui import ui

SCRIPT = (Path(__file__).parent / "local_time.js").read_text()


def install() -> None:
    """Once per process: the helpers on every page, before anything that says a time is drawn."""
    ui.add_body_html(f"<script>{SCRIPT}</script>", shared=True)


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


def moment(value: Any, none: str = "") -> list[Part]:
    """An API timestamp alone, as a text: its instant, or `none` without one."""
    return text(instant(value) if value else none)


class MomentText(ui.element, component="moment_text.js"):
    """A label of `text` parts whose instants are said in the person's local time; a `div`, or
    the element `tag` names (`dd`, `span`)."""

    def __init__(self, parts: list[Part], *, tag: str = "div") -> None:
        super().__init__()
        self._props["parts"] = parts
        self._props["tag"] = tag
