"""Accessibility shared by every page: real headings (`heading`), readable
colours (links, "positive" green, grey and, when dark, primary text reach
4.5:1 on light and dark backgrounds) and the fixes in `a11y.js` for what Quasar renders without a
name (`install`, once per process)."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement

# In NiceGUI's `overrides` layer: an !important there outranks Quasar's (a later layer).
CSS = """
@layer overrides {
  .nicegui-link { color: #1d4ed8; }
  .body--dark .nicegui-link { color: #93c5fd; }
  .text-positive { color: #1b7a33 !important; }
  .body--dark .text-positive { color: #6ee79a !important; }
  .bg-positive { background: #1b7a33 !important; }
  .text-warning { color: #8a5300 !important; }
  .body--dark .text-warning { color: #f2c037 !important; }
  .body--dark .text-negative { color: #ff8a8a !important; }
  .body--dark .text-gray-500 { color: #9ca3af; }
  .body--dark .text-primary { color: color-mix(in srgb, var(--q-primary) 45%, white) !important; }
}
"""


def heading(text: str, level: int = 2) -> TextElement:
    """A real heading (`<h1>` is the page's title, its sections `<h2>`), styled like the labels around it."""
    size = {1: "text-2xl", 2: "text-lg"}.get(level, "text-base")
    return TextElement(tag=f"h{level}", text=text).classes(f"{size} font-semibold m-0 leading-normal tracking-normal")


def install() -> None:
    ui.add_css(CSS, shared=True)
    ui.add_body_html(f"<script>{(Path(__file__).parent / 'a11y.js').read_text()}</script>", shared=True)
