"""Background tasks: TaskIQ over NATS JetStream (seed 002 §11.3).

    from webos_common.tasks import task, progress, run_bg

    @task(retries=2)
    async def export(folder: str) -> int:
        await progress(50, "half way")
        return 42

    await start(nats_url)          # in a service: connect as a client
    handle = await export.kiq("fs://home/x")
"""

from webos_common.tasks.api import (
    Chain,
    broker,
    cancel,
    chain,
    checkpoint,
    configure,
    progress,
    resume_point,
    run_bg,
    start,
    status,
    stop,
    task,
    wait,
)
from webos_common.tasks.middleware import TaskCancelled, current_task_id
from webos_common.tasks.status import TaskRecord, TaskState, TaskStore

__all__ = [
    "Chain", "TaskCancelled", "TaskRecord", "TaskState", "TaskStore", "broker", "cancel", "chain", "checkpoint",
    "configure", "current_task_id", "progress", "resume_point", "run_bg", "start", "status", "stop", "task", "wait",
]
