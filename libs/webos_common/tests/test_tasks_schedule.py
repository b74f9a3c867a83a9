"""TaskIQ schedules kept in NATS KV, fired once per due time across workers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from taskiq import ScheduledTask

from webos_common.processes.schedule import NEVER, Schedule
from webos_common.tasks import broker, task
from webos_common.tasks.schedule import NatsScheduleSource, add_schedule, as_schedule, scheduler
from webos_common.tasks.worker import running_worker

TICKS: list[str] = []


@task
async def tick(label: str) -> None:
    TICKS.append(label)


def test_due_times_of_cron_interval_and_one_time_schedules() -> None:
    at = datetime(2026, 5, 4, 3, 15, 30, tzinfo=UTC)
    every_quarter = as_schedule(ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, cron="*/15 * * * *"))
    hourly = as_schedule(ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, cron="0 * * * *"))
    assert every_quarter.first_due(at) == at.replace(minute=30, second=0)
    assert hourly.next_after(at) == at.replace(hour=4, minute=0, second=0)
    every_10s = as_schedule(ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, interval=10))
    assert every_10s.next_after(at) == at + timedelta(seconds=10)
    once = as_schedule(ScheduledTask(task_name="t", labels={}, args=[], kwargs={}, time=at.replace(tzinfo=None)))
    assert once.first_due(at.replace(year=2027)) == at and once.next_after(at) == NEVER  # late, then never again
    with pytest.raises(ValueError, match="exactly one"):
        Schedule(id="x", action=lambda: asyncio.sleep(0), cron="* * * * *", every=5)


async def test_a_schedule_fires_once_per_due_time_and_the_worker_runs_it(nats_url: str) -> None:
    label = uuid.uuid4().hex
    async with running_worker(nats_url, schedules=False):
        source = NatsScheduleSource(broker.js, bucket=f"sched_{label[:8]}")
        with pytest.raises(ValueError):
            await add_schedule(source, tick, label, cron="not a cron")
        schedule = await add_schedule(source, tick, label, every=60)
        assert [s.schedule_id for s in await source.get_schedules()] == [schedule.schedule_id]
        one, two = scheduler(source), scheduler(NatsScheduleSource(broker.js, bucket=source.bucket))
        now = datetime.now(UTC)
        assert await one.run_due(now) == []  # first sight: due one interval on
        later = now + timedelta(seconds=60)
        assert await one.run_due(later) == [schedule.schedule_id]
        assert await two.run_due(later) == []  # a second worker at the same due time fires nothing
        for _ in range(250):
            if label in TICKS:
                break
            await asyncio.sleep(0.02)
        await source.delete_schedule(schedule.schedule_id)
        assert await source.get_schedules() == []
        assert await one.run_due(later + timedelta(days=1)) == []
    assert TICKS.count(label) == 1
