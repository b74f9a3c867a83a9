"""In-process background jobs for large transfers, with queryable progress.

Each job runs as an asyncio task (carrying the request's context); every
10 % it records the percent and emits `task:progress`, and `task:status`
when it starts and ends, with the payload shape of `webos_common.tasks`
(task_id, name, state, percent, message, error, attempts, user_id) plus
bytes and URNs. The copy needs this process's data sources, which is why it
does not run on the shared TaskIQ workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from loguru import logger

from webos_common.errors import NotFound
from webos_common.lifecycle import cancel_and_wait
from webos_storage.domain.model import Job
from webos_storage.ports import EventBus

Progress = Callable[[int], Awaitable[None]]


class JobRunner:
    def __init__(self, bus: EventBus, *, keep: int = 500) -> None:
        self.bus = bus
        self.keep = keep
        self.jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"No job {job_id}", details={"job": job_id})
        return job

    def start(self, job: Job, work: Callable[[Progress], Awaitable[None]]) -> Job:
        self.jobs[job.id] = job
        self._trim()
        task = asyncio.create_task(self._run(job, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def run_inline(self, job: Job, work: Callable[[Progress], Awaitable[None]]) -> Job:
        self.jobs[job.id] = job
        await self._run(job, work, swallow=False)
        return job

    async def _run(self, job: Job, work: Callable[[Progress], Awaitable[None]], *, swallow: bool = True) -> None:
        job.state = "running"
        await self._emit(job, "task:status")

        async def progress(done: int) -> None:
            job.bytes_done = done
            step = job.percent // 10 * 10
            if step and (not job.progress or step > job.progress[-1]):
                job.progress.append(step)
                await self._emit(job, "task:progress")

        try:
            await work(progress)
            job.state = "succeeded"
        except Exception as exc:
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            logger.exception("storage job {} failed", job.id)
            if not swallow:
                raise
        finally:
            job.finished = datetime.now(UTC)
            await self._emit(job, "task:status")

    async def _emit(self, job: Job, topic: str) -> None:
        payload = {"task_id": job.id, "name": f"storage.{job.kind}", "state": job.state, "percent": job.percent,
                   "message": f"{job.kind} {job.src} -> {job.dst}", "error": job.error, "attempts": 1,
                   "user_id": job.owner, "bytes_done": job.bytes_done, "bytes_total": job.bytes_total,
                   "src": job.src, "dst": job.dst}
        try:
            await self.bus.emit(topic, payload)
        except Exception:  # noqa: BLE001 - progress is best effort
            logger.exception("could not emit {}", topic)

    def _trim(self) -> None:
        finished = [j for j in self.jobs.values() if j.finished]
        for job in finished[: max(0, len(self.jobs) - self.keep)]:
            self.jobs.pop(job.id, None)

    async def close(self) -> None:
        await cancel_and_wait(list(self._tasks), what="storage jobs")
