"""Accessibility settings shared by every page: readable colours (links and
"positive" green reach 4.5:1 on light and dark backgrounds) and the fixes
in `a11y.js` for what Quasar renders without a name. Installed once."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui

# In NiceGUI's `overrides` layer: an !important there outranks Quasar's (a later layer).
CSS = """
@layer overrides {
  .nicegui-link { color: #1d4ed8; }
  .body--dark .nicegui-link { color: #93c5fd; }
  .text-positive { color: #1b7a33 !important; }
  .body--dark .text-positive { color: #6ee79a !important; }
  .bg-positive { background: #1b7a33 !important; }
}
"""


def install() -> None:
    ui.add_css(CSS, shared=True)
    ui.add_body_html(f"<script>{(Path(__file__).parent / 'a11y.js').read_text()}</script>", shared=True)
