"""Live log viewer: every service's log records from NATS `webos.logs.>`,
filtered by level, service and text while they stream; paused, it holds what
comes (the last `MAX_LINES`) and shows it on resume."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from nicegui import context, ui

from webos_common.identity import User
from webos_shell import endpoints, runtime

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
MAX_LINES = 500


def record_of(subject: str, data: bytes) -> dict[str, Any]:
    try:
        record = json.loads(data)
    except ValueError:
        record = {"message": data.decode(errors="replace")}
    if not isinstance(record, dict):
        record = {"message": str(record)}
    if not record.get("service"):
        record["service"] = subject.split(".")[2] if subject.count(".") >= 2 else "?"
    record["level"] = str(record.get("level", "INFO")).upper()
    return record


def passes(record: dict[str, Any], level: str, service: str, text: str = "") -> bool:
    wanted = LEVELS.index(level) if level in LEVELS else 0
    have = LEVELS.index(record["level"]) if record["level"] in LEVELS else 1
    return (have >= wanted and (not service or service == record.get("service"))
            and (not text or text.casefold() in line_of(record).casefold()))


def line_of(record: dict[str, Any]) -> str:
    stamp = str(record.get("time", ""))[11:19]
    return f"{stamp} {record['level']:<8} {record['service']}: {record.get('message', '')}"


async def render(user: User) -> None:
    nc = runtime.get().nats
    filters: dict[str, Any] = {"level": "INFO", "service": "", "text": ""}
    held: deque[str] = deque(maxlen=MAX_LINES)  # lines that came while paused
    state = {"paused": False}

    def toggle() -> None:
        state["paused"] = not state["paused"]
        button.set_text("Resume" if state["paused"] else "Pause")
        button.props(f'icon={"play_arrow" if state["paused"] else "pause"}')
        if not state["paused"]:
            for line in held:
                log.push(line)
            held.clear()

    with ui.row().classes("gap-2 items-center"):
        ui.select(LEVELS, label="Level").bind_value(filters, "level").classes("w-32")
        ui.input("Service").bind_value(filters, "service").props("clearable").classes("w-40")
        ui.input("Search").bind_value(filters, "text").props('clearable data-testid="log-search"').classes("w-56")
        button = ui.button("Pause", icon="pause", on_click=toggle).props('flat data-testid="log-pause"')
    log = ui.log(max_lines=MAX_LINES).classes("w-full h-[28rem] font-mono text-xs").props('data-testid="log-view"')
    if nc is None:
        log.push("NATS is not connected")
        return

    async def received(msg: Any) -> None:
        record = record_of(msg.subject, msg.data)
        if passes(record, filters["level"], filters["service"] or "", filters["text"] or ""):
            (held.append if state["paused"] else log.push)(line_of(record))

    sub = await nc.subscribe(endpoints.LOG_SUBJECT, cb=received)

    async def stop() -> None:
        await sub.unsubscribe()

    context.client.on_delete(stop)  # not on_disconnect: also called when the page reconnects
