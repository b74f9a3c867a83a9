"""Schedules kept in NATS KV, fired once per slot across workers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from taskiq import ScheduledTask

from webos_common.tasks import broker, task
from webos_common.tasks.schedule import NatsScheduleSource, add_schedule, due_slot, fire_due
from webos_common.tasks.worker import running_worker

TICKS: list[str] = []


@task
async def tick(label: str) -> None:
    TICKS.append(label)


def test_cron_and_interval_slots() -> None:
    at = datetime(2026, 5, 4, 3, 15, 30, tzinfo=UTC)
    every_quarter = ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, cron="*/15 * * * *")
    hourly = ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, cron="0 * * * *")
    assert due_slot(every_quarter, at) == "202605040315"
    assert due_slot(hourly, at) is None
    every_10s = ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, interval=10)
    assert due_slot(every_10s, at) == due_slot(every_10s, at.replace(second=39))


async def test_a_schedule_fires_once_per_slot_and_the_worker_runs_it(nats_url) -> None:
    label = uuid.uuid4().hex
    async with running_worker(nats_url, schedules=False):
        source = NatsScheduleSource(broker.js, bucket=f"sched_{label[:8]}")
        with pytest.raises(ValueError):
            await add_schedule(source, tick, label, cron="not a cron")
        schedule = await add_schedule(source, tick, label, every=60)
        assert [s.schedule_id for s in await source.get_schedules()] == [schedule.schedule_id]
        now = datetime.now(UTC)
        assert await fire_due(source, now) == 1
        assert await fire_due(source, now) == 0  # a second worker in the same slot fires nothing
        for _ in range(250):
            if label in TICKS:
                break
            await asyncio.sleep(0.02)
        await source.delete_schedule(schedule.schedule_id)
        assert await source.get_schedules() == []
    assert TICKS.count(label) == 1
