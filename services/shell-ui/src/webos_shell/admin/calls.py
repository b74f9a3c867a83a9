"""What every admin page does with auth's admin API: load a list, send a change (its refusal
shown as auth words it)."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import runtime


async def load(path: str, **params: Any) -> list[dict[str, Any]]:
    try:
        body = await runtime.get().gateway.get(app.storage.user, path, **params)
    except (ApiError, OSError) as exc:
        ui.notify(f"unavailable: {exc}", type="negative")
        return []
    return list(body.get("items", []) if isinstance(body, dict) else body or [])


async def call(method: str, path: str, body: Any = None, done: str = "Saved") -> bool:
    try:
        await runtime.get().gateway.send(app.storage.user, method, path, body)
    except ApiError as exc:
        ui.notify(exc.message, type="negative", multi_line=True)
        return False
    ui.notify(done, type="positive")
    return True
