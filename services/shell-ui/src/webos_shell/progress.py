"""Background task progress: a bar per running task of the person that
moves as the events service reports progress, with cancel, result or error."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.identity import User
from webos_shell import endpoints, runtime
from webos_shell.gateway import ApiError

_DONE = {"succeeded", "failed", "cancelled"}


def panel(user: User) -> None:
    rt = runtime.get()
    store = app.storage.user
    box = ui.column().classes("w-full gap-1").props('data-testid="task-progress"')

    async def cancel(task_id: str) -> None:
        try:
            await rt.gateway.send(store, "POST", endpoints.TASK_CANCEL.format(id=task_id))
            ui.notify("Cancel requested")
        except ApiError as exc:
            ui.notify(str(exc), type="negative")

    async def poll() -> None:
        try:
            body = await rt.gateway.get(store, endpoints.TASKS, mine="true", limit=10)
        except (ApiError, OSError):
            return
        tasks: list[dict[str, Any]] = body.get("items", []) if isinstance(body, dict) else body or []
        box.clear()
        with box:
            if not tasks:
                ui.label("No background tasks").classes("text-sm text-gray-500")
            for task in tasks:
                status = str(task.get("status", "queued"))
                with ui.row().classes("w-full items-center gap-2"):
                    ui.label(str(task.get("name") or task.get("id"))).classes("w-48 truncate")
                    ui.linear_progress(float(task.get("progress") or 0) / 100, show_value=False).classes("flex-1")
                    ui.label(task.get("message") or status).classes("text-xs w-40 truncate")
                    if status not in _DONE:
                        ui.button(icon="cancel", on_click=lambda t=task: cancel(str(t.get("id")))).props("flat dense")
                    elif status == "failed":
                        ui.label(str(task.get("error") or "failed")).classes("text-negative text-xs")

    ui.timer(1.0, poll)
