"""A module's `ScheduledJob`s on the one scheduler (`webos_common.processes.schedule`): ids
`module.<module>.<job>`, each due run claimed in NATS KV so that among the host's
replicas exactly one runs it, as the system user."""

from __future__ import annotations

import functools

from webos_common import context
from webos_common.identity import SYSTEM_USER
from webos_common.modules.hooks import ModuleContext, ScheduledJob
from webos_common.processes.schedule import Schedule


def schedules(module: str, jobs: list[ScheduledJob], ctx: ModuleContext) -> list[Schedule]:
    """The jobs as schedules; ValueError naming a job without a valid cron or every."""
    found = []
    for job in jobs:
        if not (job.cron or job.every):
            raise ValueError(f"scheduled job {job.name!r} needs cron or every")
        try:
            found.append(Schedule(id=f"module.{module}.{job.name}", action=functools.partial(run, job, ctx),
                                  cron=job.cron, every=None if job.cron else job.every, name=job.name))
        except ValueError as exc:
            raise ValueError(f"scheduled job {job.name!r}: {exc}") from None
    return found


async def run(job: ScheduledJob, ctx: ModuleContext) -> None:
    with context.as_user(SYSTEM_USER):
        await job.func(ctx)
