"""Scheduled jobs of a module: each due run is claimed in MongoDB
(`<module>_jobs`), so among replicas exactly one runs it. Jobs run as the
system user."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter
from loguru import logger
from pymongo.errors import DuplicateKeyError

from webos_common import context
from webos_common.hooks import ModuleContext, ScheduledJob
from webos_common.identity import SYSTEM_USER
from webos_common.lifecycle import cancel_and_wait


def next_run(job: ScheduledJob, after: datetime) -> datetime:
    if job.cron:
        nxt: datetime = croniter(job.cron, after).get_next(datetime)
        return nxt
    return after + timedelta(seconds=job.every or 3600)


class Scheduler:
    def __init__(self, module: str, jobs: list[ScheduledJob], db: Any, *, ctx: ModuleContext,
                 poll: float = 15.0, instance: str = "") -> None:
        for job in jobs:
            if not (job.cron or job.every):
                raise ValueError(f"scheduled job {job.name!r} needs cron or every")
            if job.cron and not croniter.is_valid(job.cron):
                raise ValueError(f"scheduled job {job.name!r}: bad cron {job.cron!r}")
        self.module, self.jobs, self.poll, self.instance, self.ctx = module, jobs, poll, instance, ctx
        self.collection = db[f"{module}_jobs"]
        self._task: asyncio.Task[None] | None = None

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Claim and run every job due at `now`; return the names run here."""
        now = now or datetime.now(UTC)
        ran = []
        for job in self.jobs:
            key = f"{self.module}:{job.name}"
            with contextlib.suppress(DuplicateKeyError):
                await self.collection.insert_one({"_id": key, "next_run": next_run(job, now)})
            claimed = await self.collection.find_one_and_update(
                {"_id": key, "next_run": {"$lte": now}},
                {"$set": {"next_run": next_run(job, now), "last_run": now, "by": self.instance}})
            if claimed is None:
                continue
            ran.append(job.name)
            try:
                with context.as_user(SYSTEM_USER):
                    await job.func(self.ctx)
            except Exception:  # noqa: BLE001 - one failing job does not stop the others
                logger.exception("module {}: scheduled job {} failed", self.module, job.name)
        return ran

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
                rows = [r async for r in self.collection.find({"_id": {"$regex": f"^{self.module}:"}})]
                soonest = min((r["next_run"] for r in rows), default=None)
                wait = self.poll if soonest is None else (soonest - datetime.now(UTC)).total_seconds()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - MongoDB away: try again later
                logger.warning("module {}: scheduler check failed: {}", self.module, exc)
                wait = self.poll
            await asyncio.sleep(min(max(wait, 0.05), self.poll))

    def start(self) -> None:
        if self.jobs and self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"scheduler:{self.module}")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task, what=f"scheduler {self.module}")
            self._task = None
