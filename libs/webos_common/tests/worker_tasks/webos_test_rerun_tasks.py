"""Tasks a worker subprocess runs in test_task_recovery.py: each start and finish leaves a line."""

import asyncio
from pathlib import Path

from webos_common.tasks import task


async def _slow(journal: str, seconds: float) -> str:
    path = Path(journal)
    with path.open("a") as f:
        f.write("start\n")
    await asyncio.sleep(seconds)
    with path.open("a") as f:
        f.write("finish\n")
    return "done"


@task(name="rerun:safe")
async def slow_safe(journal: str, seconds: float) -> str:
    return await _slow(journal, seconds)


@task(name="rerun:unsafe", rerun_safe=False)
async def slow_unsafe(journal: str, seconds: float) -> str:
    return await _slow(journal, seconds)
