"""Scheduled jobs: a reminder for every open task due tomorrow."""

from __future__ import annotations

from webos_common.documents import EventPublisher
from webos_common.modules.hooks import ModuleContext, ScheduledJob
from webos_tasks.service import TaskService


async def notify_due_tomorrow(ctx: ModuleContext) -> int:
    """Off when an admin unticks the module setting `remind_due_tomorrow`."""
    if ctx.config is not None and not ctx.config.get().remind_due_tomorrow:
        return 0
    return await TaskService(events=ctx.services.get(EventPublisher)).remind_due_tomorrow()


due_tomorrow = ScheduledJob(name="notify_due_tomorrow", func=notify_due_tomorrow, cron="0 8 * * *")
