"""Applying the theme: brand colours from the `shell` settings (read with
the signed-in person's token, at most once a minute) and the person's own
light/dark choice, kept in their settings and cached in their storage."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from nicegui import app, ui

from webos_common.bus.wire import envelope_of
from webos_common.clients.session import ApiError
from webos_common.http.errors import ValidationFailed
from webos_common.settings.client import CHANGED_SUBJECT
from webos_shell import endpoints, runtime
from webos_shell.theme import dark_of, theme_from_settings

BRAND_TTL = 60.0


def brand_changed(data: bytes, headers: Mapping[str, str] | None = None) -> bool:
    """True when a `settings:changed` event concerns the shell's module layer (the branding)."""
    try:
        payload = envelope_of(headers, data).payload
    except ValidationFailed:
        return False
    return payload.get("layer") == "module" and payload.get("module") == "shell"


async def follow_brand_changes(nc: Any) -> None:
    """Drop the cached brand as soon as an admin changes it (read again on the next page)."""
    rt = runtime.get()

    async def received(msg: Any) -> None:
        if brand_changed(msg.data, msg.headers):
            rt.extras.pop("brand_at", None)

    await nc.subscribe(CHANGED_SUBJECT, cb=received)


async def _refresh_brand() -> None:
    rt = runtime.get()
    if time.monotonic() - rt.extras.get("brand_at", -BRAND_TTL) < BRAND_TTL:
        return
    rt.extras["brand_at"] = time.monotonic()
    try:
        body = await rt.gateway.get(app.storage.user, endpoints.SHELL_SETTINGS)
    except (ApiError, OSError):
        return
    rt.theme = theme_from_settings(body.get("values", body) if isinstance(body, dict) else None)


async def _preference() -> str:
    store = app.storage.user
    if "theme" not in store:
        try:
            body = await runtime.get().gateway.get(store, endpoints.MY_SHELL_SETTINGS)
            store["theme"] = str((body.get("values") or {}).get("theme", "system"))
        except (ApiError, OSError):
            store["theme"] = "system"
    return str(store["theme"])


async def apply() -> None:
    await _refresh_brand()
    theme = runtime.get().theme
    ui.colors(primary=theme.primary, secondary=theme.secondary, accent=theme.accent)
    preference = await _preference()
    ui.dark_mode(dark_of(preference) if preference != "system" else theme.dark)


async def toggle_dark() -> None:
    store = app.storage.user
    new = "light" if await _preference() == "dark" else "dark"
    store["theme"] = new
    try:
        await runtime.get().gateway.send(store, "PATCH", endpoints.MY_SHELL_SETTINGS, {"theme": new})
    except (ApiError, OSError):
        pass  # kept for this session at least
    ui.navigate.reload()
