"""TaskIQ schedules on the one scheduler (`webos_common.processes.schedule`).

`NatsScheduleSource` is a TaskIQ `ScheduleSource` keeping each schedule as JSON
under `schedule.<id>` in the bucket `webos_schedules` (so any process can read
them); its due times live beside them (`next.task.<id>`). Every worker runs
`run_schedules`, and each due run queues its task from exactly one worker.
"""

from __future__ import annotations

import functools
from datetime import UTC, timedelta
from typing import Any

from loguru import logger
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue
from taskiq import ScheduledTask, ScheduleSource

from webos_common.processes.schedule import BUCKET, DueTimes, Schedule, Scheduler, check
from webos_common.tasks.api import Task, broker
from webos_common.tasks.middleware import CONTEXT_LABEL


class NatsScheduleSource(ScheduleSource):
    def __init__(self, js: JetStreamContext, *, bucket: str = BUCKET, create: bool = True) -> None:
        self.bucket = bucket  # `create` False in the worker: its credential may only use the provisioned bucket
        self.times = DueTimes(js, bucket=bucket, create=create)

    async def startup(self) -> None:
        await self.open()

    async def open(self) -> KeyValue:
        return await self.times.open()

    async def add_schedule(self, schedule: ScheduledTask) -> None:
        kv = await self.open()
        await kv.put(f"schedule.{schedule.schedule_id}", schedule.model_dump_json().encode())

    async def delete_schedule(self, schedule_id: str) -> None:
        kv = await self.open()
        await kv.delete(f"schedule.{schedule_id}")
        await self.times.forget(f"task.{schedule_id}")

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

    async def due(self) -> list[Schedule]:
        """The stored schedules as the scheduler runs them."""
        return [as_schedule(s) for s in await self.get_schedules()]


def as_schedule(task: ScheduledTask) -> Schedule:
    interval = task.interval.total_seconds() if isinstance(task.interval, timedelta) else task.interval
    at = task.time.replace(tzinfo=task.time.tzinfo or UTC) if task.time else None
    return Schedule(id=f"task.{task.schedule_id}", action=functools.partial(queue, task), cron=task.cron,
                    every=None if task.cron else interval, at=None if task.cron or interval else at,
                    name=task.schedule_id)


async def queue(schedule: ScheduledTask) -> None:
    target = broker.find_task(schedule.task_name)
    if target is None:
        logger.warning("schedule {}: task {} not registered here", schedule.schedule_id, schedule.task_name)
        return
    labels = {k: v for k, v in schedule.labels.items() if k != CONTEXT_LABEL}
    await target.kicker().with_labels(**labels).kiq(*schedule.args, **schedule.kwargs)


async def add_schedule(source: NatsScheduleSource, task: Task, *args: Any, cron: str | None = None,
                       every: int | None = None, schedule_id: str | None = None, **kwargs: Any) -> ScheduledTask:
    """Run `task(*args, **kwargs)` on a cron expression (UTC) or every N seconds."""
    check(cron, every)
    fields: dict[str, Any] = {"task_name": task.task_name, "labels": {}, "args": list(args), "kwargs": kwargs,
                              "cron": cron, "interval": every}
    if schedule_id:
        fields["schedule_id"] = schedule_id
    schedule = ScheduledTask(**fields)
    await source.add_schedule(schedule)
    return schedule


def scheduler(source: NatsScheduleSource, *, tick: float = 1.0) -> Scheduler:
    return Scheduler(source.times, source.due, tick=tick, name="task-schedules")


async def run_schedules(source: NatsScheduleSource, *, tick: float = 1.0) -> None:
    """The worker's schedule loop (until cancelled)."""
    await scheduler(source, tick=tick).run()
