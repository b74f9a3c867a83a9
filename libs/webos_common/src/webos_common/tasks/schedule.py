"""Cron-like schedules in the NATS KV bucket `webos_schedules`.

`NatsScheduleSource` is a TaskIQ `ScheduleSource` (JSON values, so any
process can read them); `run_schedules` fires what is due. Every worker
runs it; a `fired.<schedule>.<slot>` key created atomically in the bucket
`webos_schedules_fired` (kept two days) makes each slot fire once across
all workers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter
from loguru import logger
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue
from taskiq import ScheduledTask, ScheduleSource

from webos_common.bus.streams import open_key_value
from webos_common.tasks.api import Task, broker
from webos_common.tasks.middleware import CONTEXT_LABEL

BUCKET = "webos_schedules"


class NatsScheduleSource(ScheduleSource):
    def __init__(self, js: JetStreamContext, *, bucket: str = BUCKET, create: bool = True) -> None:
        self.js = js
        self.create = create  # False in the worker: its credential may only use the provisioned buckets
        self.bucket = bucket
        self.kv: KeyValue | None = None
        self.fired: KeyValue | None = None

    async def startup(self) -> None:
        await self.open()

    async def open(self) -> KeyValue:
        if self.kv is None:
            self.kv = await open_key_value(self.js, KeyValueConfig(bucket=self.bucket, history=1), create=self.create)
        return self.kv

    async def open_fired(self) -> KeyValue:
        if self.fired is None:
            name = f"{self.bucket}_fired"
            self.fired = await open_key_value(self.js, KeyValueConfig(bucket=name, history=1, ttl=2 * 86400),
                                              create=self.create)
        return self.fired

    async def add_schedule(self, schedule: ScheduledTask) -> None:
        kv = await self.open()
        await kv.put(f"schedule.{schedule.schedule_id}", schedule.model_dump_json().encode())

    async def delete_schedule(self, schedule_id: str) -> None:
        kv = await self.open()
        await kv.delete(f"schedule.{schedule_id}")

    async def get_schedules(self) -> list[ScheduledTask]:
        kv = await self.open()
        try:
            keys = await kv.keys()
        except NoKeysError:
            return []
        found = []
        for key in keys:
            if not key.startswith("schedule."):
                continue
            try:
                entry = await kv.get(key)
            except KeyNotFoundError:
                continue
            if entry.value:
                found.append(ScheduledTask.model_validate_json(entry.value))
        return found

    async def claim(self, schedule_id: str, slot: str) -> bool:
        """True for exactly one caller per (schedule, slot)."""
        kv = await self.open_fired()
        try:
            await kv.create(f"fired.{schedule_id}.{slot}", b"1")
            return True
        except KeyWrongLastSequenceError:
            return False


async def add_schedule(source: NatsScheduleSource, task: Task, *args: Any, cron: str | None = None,
                       every: int | None = None, schedule_id: str | None = None, **kwargs: Any) -> ScheduledTask:
    """Run `task(*args, **kwargs)` on a cron expression (UTC) or every N seconds."""
    if (cron is None) == (every is None):
        raise ValueError("give exactly one of cron= or every=")
    if cron is not None and not croniter.is_valid(cron):
        raise ValueError(f"invalid cron expression {cron!r}")
    fields: dict[str, Any] = {"task_name": task.task_name, "labels": {}, "args": list(args), "kwargs": kwargs,
                              "cron": cron, "interval": every}
    if schedule_id:
        fields["schedule_id"] = schedule_id
    schedule = ScheduledTask(**fields)
    await source.add_schedule(schedule)
    return schedule


def due_slot(schedule: ScheduledTask, now: datetime) -> str | None:
    """The slot name if the schedule is due at `now`, else None."""
    if schedule.cron:
        minute = now.replace(second=0, microsecond=0)
        return minute.strftime("%Y%m%d%H%M") if croniter.match(schedule.cron, minute) else None
    if schedule.interval:
        seconds = schedule.interval.total_seconds() if isinstance(schedule.interval, timedelta) else schedule.interval
        return str(int(now.timestamp() // seconds))
    if schedule.time and schedule.time <= now:
        return "once"
    return None


async def fire_due(source: NatsScheduleSource, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    fired = 0
    for schedule in await source.get_schedules():
        slot = due_slot(schedule, now)
        if slot is None or not await source.claim(schedule.schedule_id, slot):
            continue
        target = broker.find_task(schedule.task_name)
        if target is None:
            logger.warning("schedule {}: task {} not registered here", schedule.schedule_id, schedule.task_name)
            continue
        labels = {k: v for k, v in schedule.labels.items() if k != CONTEXT_LABEL}
        await target.kicker().with_labels(**labels).kiq(*schedule.args, **schedule.kwargs)
        fired += 1
    return fired


async def run_schedules(source: NatsScheduleSource, *, tick: float = 1.0) -> None:
    while True:
        try:
            await fire_due(source)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - keep the scheduler alive
            logger.warning("scheduler tick failed: {}", exc)
        await asyncio.sleep(tick)
