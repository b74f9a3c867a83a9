"""The one scheduler of WebOS: each due run happens once across all replicas.

A `Schedule` has an id, a cron expression (UTC), an interval in seconds or one
time, and an action. Its next due time lives in the NATS KV bucket
`webos_schedules` under `next.<id>`. Every replica runs a `Scheduler`; a due
run is claimed by a compare-and-set on that key (`kv.update(..., last=revision)`,
atomic on the JetStream cluster): one replica wins and runs the action, the
others find a newer revision and skip it. Scaling replicas changes who runs a
job, never how often.

The due time is stored, not recomputed, so it outlives restarts: a run missed
while every replica was down runs once when the first one is back; a schedule
seen for the first time is due at its next occurrence (a one-time schedule: at
its time).

Users: the task worker (`webos_common.tasks.schedule`: TaskIQ schedules, whose
action queues a task) and the module hosts (a module's `ScheduledJob`s, run in
the host as the system user, ids `module.<module>.<job>`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter
from loguru import logger
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from webos_common.bus.streams import open_key_value
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.security.nats_permissions import SCHEDULES_BUCKET

BUCKET = SCHEDULES_BUCKET
NEVER = datetime.max.replace(tzinfo=UTC)  # a one-time schedule after its run


def check(cron: str | None = None, every: float | None = None, at: datetime | None = None) -> None:
    """ValueError unless exactly one of `cron`, `every`, `at` is given and it is valid."""
    if sum(x is not None for x in (cron, every, at)) != 1:
        raise ValueError("give exactly one of cron, every or at")
    if cron is not None and not croniter.is_valid(cron):
        raise ValueError(f"invalid cron expression {cron!r}")
    if every is not None and every <= 0:
        raise ValueError(f"every must be a positive number of seconds, not {every!r}")


@dataclass(frozen=True)
class Schedule:
    """When `action` runs. `name` is what `Scheduler.run_due` reports (default: the id)."""

    id: str
    action: Callable[[], Awaitable[Any]]
    cron: str | None = None
    every: float | None = None
    at: datetime | None = None
    name: str = ""

    def __post_init__(self) -> None:
        check(self.cron, self.every, self.at)

    def first_due(self, now: datetime) -> datetime:
        return self.at if self.at is not None else self.next_after(now)

    def next_after(self, after: datetime) -> datetime:
        if self.cron is not None:
            nxt: datetime = croniter(self.cron, after).get_next(datetime)
            return nxt
        if self.every is not None:
            return after + timedelta(seconds=self.every)
        return NEVER


class DueTimes:
    """The `next.<id>` keys of the bucket: each schedule's next due time, claimed by compare-and-set."""

    def __init__(self, js: JetStreamContext, *, bucket: str = BUCKET, create: bool = True) -> None:
        self.js, self.bucket = js, bucket
        self.create = create  # False with a service credential: it may only use the provisioned bucket
        self.kv: KeyValue | None = None

    async def open(self) -> KeyValue:
        if self.kv is None:
            self.kv = await open_key_value(self.js, KeyValueConfig(bucket=self.bucket, history=1), create=self.create)
        return self.kv

    async def claim(self, schedule: Schedule, now: datetime) -> tuple[bool, datetime | None]:
        """(True, next due time) for the one caller that claims the run due at `now`; else
        (False, the stored due time, None when the schedule was just forgotten)."""
        kv, key = await self.open(), f"next.{schedule.id}"
        first = schedule.first_due(now)
        try:
            await kv.create(key, first.isoformat().encode())
            if first > now:  # first sight: due at its next occurrence
                return False, first
        except KeyWrongLastSequenceError:
            pass
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            return False, None
        due = datetime.fromisoformat((entry.value or b"").decode())
        if due > now:
            return False, due
        nxt = schedule.next_after(now)
        try:
            await kv.update(key, nxt.isoformat().encode(), last=entry.revision)
        except KeyWrongLastSequenceError:
            return False, nxt  # another replica claimed it
        return True, nxt

    async def forget(self, schedule_id: str) -> None:
        kv = await self.open()
        with contextlib.suppress(KeyNotFoundError):
            await kv.delete(f"next.{schedule_id}")


Schedules = Sequence[Schedule] | Callable[[], Awaitable[Sequence[Schedule]]]


class Scheduler:
    """Claims and runs what is due, checking every `tick` seconds at most (sooner when a due
    time is nearer). `schedules`: a fixed list, or a coroutine function giving the current one."""

    def __init__(self, times: DueTimes, schedules: Schedules, *, tick: float = 1.0, name: str = "scheduler") -> None:
        self.times, self.schedules, self.tick, self.name = times, schedules, tick, name
        self.soonest: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def current(self) -> Sequence[Schedule]:
        return self.schedules if isinstance(self.schedules, Sequence) else await self.schedules()

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Claim and run every schedule due at `now`; return the names run here."""
        now = now or datetime.now(UTC)
        ran: list[str] = []
        soonest: datetime | None = None
        for schedule in await self.current():
            won, due = await self.times.claim(schedule, now)
            if due is not None and (soonest is None or due < soonest):
                soonest = due
            if not won:
                continue
            ran.append(schedule.name or schedule.id)
            try:
                await schedule.action()
            except Exception:  # noqa: BLE001 - one failing run does not stop the others
                logger.exception("{}: scheduled run of {} failed", self.name, schedule.id)
        self.soonest = soonest
        return ran

    async def run(self) -> None:
        """Check until cancelled; an outage of NATS is logged and waited out."""
        while True:
            wait = self.tick
            try:
                await self.run_due()
                if self.soonest is not None:
                    wait = min(self.tick, (self.soonest - datetime.now(UTC)).total_seconds())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the scheduler alive
                logger.warning("{}: schedule check failed: {}", self.name, exc)
            await asyncio.sleep(max(wait, 0.05))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task, what=self.name)
            self._task = None
