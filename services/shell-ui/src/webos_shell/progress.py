"""Background task progress: a bar per task of the person, moved by the
live `task:status`/`task:progress` events, with cancel, result or error.
Cancel goes through the task store in NATS (`webos_common.tasks`)."""

from __future__ import annotations

from typing import Any

from nicegui import context, ui

from webos_common.identity import User
from webos_common.tasks.status import TaskStore, request_cancel
from webos_shell import runtime

FINISHED = {"succeeded", "failed", "cancelled"}


def merge(tasks: dict[str, dict[str, Any]], message: dict[str, Any], keep: int = 10) -> bool:
    """Fold one task event into the per-task state; False when it is not a task event."""
    data = message.get("data") or {}
    task_id = data.get("task_id")
    if not str(message.get("type", "")).startswith("task:") or not task_id:
        return False
    current = tasks.setdefault(str(task_id), {})
    current.update({k: v for k, v in data.items() if v is not None})
    while len(tasks) > keep:
        done = [k for k, v in tasks.items() if v.get("state") in FINISHED] or list(tasks)
        tasks.pop(done[0])
    return True


def panel(user: User) -> None:
    rt = runtime.get()
    tasks: dict[str, dict[str, Any]] = {}
    box = ui.column().classes("w-full gap-1").props('data-testid="task-progress"')

    async def cancel(task_id: str) -> None:
        if rt.nats is None:
            return
        record = await TaskStore(rt.nats.jetstream(), create=rt.settings.may_provision).get(task_id)
        if record is None or (record.user_id != user.id and not user.is_admin):
            ui.notify("No such task", type="negative")
            return
        await request_cancel(TaskStore(rt.nats.jetstream(), create=rt.settings.may_provision), rt.nats, task_id)
        ui.notify("Cancel requested")

    def draw() -> None:
        box.clear()
        with box:
            if not tasks:
                ui.label("No background tasks right now").classes("text-sm text-gray-500")
            for task_id, task in tasks.items():
                state = str(task.get("state", "queued"))
                with ui.row().classes("w-full items-center gap-2").props(f'data-testid="task-{task_id}"'):
                    ui.label(str(task.get("name") or task_id)).classes("w-48 truncate")
                    ui.linear_progress(float(task.get("percent") or 0) / 100, show_value=False).classes("flex-1")
                    ui.label(str(task.get("message") or state)).classes("text-xs w-40 truncate")
                    if state not in FINISHED:
                        ui.button(icon="cancel", on_click=lambda t=task_id: cancel(t)).props(
                            'flat dense aria-label="Cancel the task"')
                    elif state == "failed":
                        ui.label(str(task.get("error") or "failed")).classes("text-negative text-xs")
                    else:
                        ui.label(state).classes("text-xs")

    def pushed(message: dict[str, Any]) -> None:
        if merge(tasks, message):
            draw()

    draw()
    forget = rt.live.listen(user.id, pushed)
    context.client.on_delete(forget)  # not on_disconnect: also called on a reconnect
