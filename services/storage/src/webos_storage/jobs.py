"""In-process background jobs for large transfers, with queryable progress.

Each job runs as an asyncio task (carrying the request's context); every
10 % it records the percent and emits `task:progress`, and `task:status`
when it starts and ends, with the payload shape of `webos_common.tasks`
(task_id, name, state, percent, message, error, attempts, user_id) plus
bytes and URNs. The copy needs this process's data sources, which is why it
does not run on the shared TaskIQ workers.

With a `JobStore` the job is saved when it starts, at each reported step
(and at least every few seconds while it runs) and when it ends, so any
replica answers for it; a running job whose replica stopped saving (killed)
reads as failed, "interrupted".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from loguru import logger

from webos_common.http.errors import NotFound
from webos_common.http.lifecycle import cancel_and_wait
from webos_storage.domain.model import Job
from webos_storage.ports import EventBus, JobStore

Progress = Callable[[int], Awaitable[None]]
SAVE_EVERY = timedelta(seconds=5)
STALE_AFTER = timedelta(seconds=60)  # no save for this long: the replica running it is gone
INTERRUPTED = "interrupted: the storage replica running it stopped"


class JobRunner:
    def __init__(self, bus: EventBus, *, store: JobStore | None = None, keep: int = 500) -> None:
        self.bus = bus
        self.store = store
        self.keep = keep
        self.jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id) or (await self.store.get(job_id) if self.store else None)
        if job is None:
            raise NotFound(f"No job {job_id}", details={"job": job_id})
        if job.finished is None and job_id not in self.jobs and datetime.now(UTC) - job.updated > STALE_AFTER:
            job.state, job.error = "failed", INTERRUPTED
        return job

    async def start(self, job: Job, work: Callable[[Progress], Awaitable[None]]) -> Job:
        self.jobs[job.id] = job
        self._trim()
        await self._save(job)  # visible to every replica before the caller learns its id
        task = asyncio.create_task(self._run(job, work, shared=True))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def run_inline(self, job: Job, work: Callable[[Progress], Awaitable[None]]) -> Job:
        self.jobs[job.id] = job
        await self._run(job, work, swallow=False)
        return job

    async def _run(self, job: Job, work: Callable[[Progress], Awaitable[None]], *, swallow: bool = True,
                   shared: bool = False) -> None:
        """`shared`: a background job, saved for every replica (an inline one ends with its request)."""
        save = self._save if shared else _touch
        job.state = "running"
        await self._emit(job, "task:status")
        await save(job)

        async def progress(done: int) -> None:
            job.bytes_done = done
            step = job.percent // 10 * 10
            if step and (not job.progress or step > job.progress[-1]):
                job.progress.append(step)
                await self._emit(job, "task:progress")
                await save(job)
            elif datetime.now(UTC) - job.updated > SAVE_EVERY:
                await save(job)

        try:
            await work(progress)
            job.state = "succeeded"
        except asyncio.CancelledError:
            job.state, job.error = "failed", "interrupted: storage is stopping"
            raise
        except Exception as exc:
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            logger.exception("storage job {} failed", job.id)
            if not swallow:
                raise
        finally:
            job.finished = datetime.now(UTC)
            await self._emit(job, "task:status")
            await save(job)

    async def _save(self, job: Job) -> None:
        await _touch(job)
        if self.store is None:
            return
        try:
            await self.store.save(job)
        except Exception:  # noqa: BLE001 - the job goes on; this replica still answers for it
            logger.exception("could not save storage job {}", job.id)

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


async def _touch(job: Job) -> None:
    job.updated = datetime.now(UTC)
