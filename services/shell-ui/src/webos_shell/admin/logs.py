"""Live log viewer: every service's log records from NATS `webos.logs.>`,
filtered by level and service while they stream."""

from __future__ import annotations

import json
from typing import Any

from nicegui import context, ui

from webos_common.identity import User
from webos_shell import endpoints, runtime

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


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


def passes(record: dict[str, Any], level: str, service: str) -> bool:
    wanted = LEVELS.index(level) if level in LEVELS else 0
    have = LEVELS.index(record["level"]) if record["level"] in LEVELS else 1
    return have >= wanted and (not service or service == record.get("service"))


async def render(user: User) -> None:
    nc = runtime.get().nats
    filters = {"level": "INFO", "service": ""}
    with ui.row().classes("gap-2 items-center"):
        ui.select(LEVELS, label="Level").bind_value(filters, "level").classes("w-32")
        ui.input("Service").bind_value(filters, "service").props("clearable").classes("w-40")
    log = ui.log(max_lines=500).classes("w-full h-[28rem] font-mono text-xs").props('data-testid="log-view"')
    if nc is None:
        log.push("NATS is not connected")
        return

    async def received(msg: Any) -> None:
        record = record_of(msg.subject, msg.data)
        if passes(record, filters["level"], filters["service"] or ""):
            stamp = str(record.get("time", ""))[11:19]
            log.push(f"{stamp} {record['level']:<8} {record['service']}: {record.get('message', '')}")

    sub = await nc.subscribe(endpoints.LOG_SUBJECT, cb=received)

    async def stop() -> None:
        await sub.unsubscribe()

    context.client.on_disconnect(stop)
