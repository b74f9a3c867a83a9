"""Event log and dead letters, with replay of one or all dead letters."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_shell import a11y, endpoints, runtime


async def _items(path: str, **params: Any) -> list[dict[str, Any]] | None:
    try:
        body = await runtime.get().gateway.get(app.storage.user, path, **params)
    except (ApiError, OSError) as exc:
        ui.label(f"unavailable: {exc}").classes("text-negative")
        return None
    return body.get("items", []) if isinstance(body, dict) else body or []


async def render(user: User) -> None:
    rt = runtime.get()
    topic = {"value": ""}
    a11y.heading("Event log")
    ui.input("Topic").bind_value(topic, "value").props("dense clearable").on("keydown.enter", lambda: log.refresh())

    @ui.refreshable
    async def log() -> None:
        items = await _items(endpoints.EVENT_LOG, limit=100, **({"topic": topic["value"]} if topic["value"] else {}))
        if items is not None:
            ui.aggrid({"columnDefs": [{"field": f} for f in ("timestamp", "topic", "source", "user_id", "trace_id")],
                       "rowData": items}, theme="quartz").classes("w-full h-72")

    await log()
    a11y.heading("Dead letters")

    @ui.refreshable
    async def dead() -> None:
        items = await _items(endpoints.DEAD_LETTERS, limit=100)
        for item in items or []:
            with ui.row().classes("w-full items-center gap-2"):
                ui.label(str(item.get("topic") or item.get("subject"))).classes("w-48")
                ui.label(str(item.get("error") or item.get("reason") or "")).classes("flex-1 text-sm")
                ui.button("Replay", on_click=lambda i=item: replay(str(i.get("id")))).props("flat dense")
        if items == []:
            ui.label("No dead letters").classes("text-gray-500")

    async def replay(item_id: str) -> None:
        try:
            await rt.gateway.send(app.storage.user, "POST", endpoints.DEAD_LETTER_REPLAY.format(id=item_id))
            ui.notify("Replayed", type="positive")
        except ApiError as exc:
            ui.notify(str(exc), type="negative")
        dead.refresh()

    await dead()
