"""The theme from system settings (pure): brand name and colours, and
whether the shell starts dark. Unknown or malformed values fall back to
the defaults, so a bad setting never breaks a page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Theme:
    brand_name: str = "WebOS"
    primary: str = "#4f46e5"
    secondary: str = "#0ea5e9"
    accent: str = "#f59e0b"
    dark: bool | None = None  # None: follow the browser

    def header_classes(self) -> str:
        return "items-center gap-2 px-4 py-1 shadow-sm"


def theme_from_settings(values: dict[str, Any] | None) -> Theme:
    values = values or {}
    brand = values.get("branding", values)  # either {"branding": {...}} or flat

    def colour(key: str, default: str) -> str:
        value = brand.get(key)
        return value if isinstance(value, str) and _HEX.match(value) else default

    dark = brand.get("dark_mode")
    if brand.get("theme") in ("light", "dark"):
        dark = brand["theme"] == "dark"
    return Theme(
        brand_name=str(brand.get("brand_name") or "WebOS")[:40],
        primary=colour("primary_color", Theme.primary),
        secondary=colour("secondary_color", Theme.secondary),
        accent=colour("accent_color", Theme.accent),
        dark=dark if isinstance(dark, bool) else None,
    )


def dark_of(preference: object) -> bool | None:
    """The person's `theme` setting → Quasar's dark mode (None follows the browser)."""
    return {"dark": True, "light": False}.get(str(preference))
