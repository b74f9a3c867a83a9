"""Tasks a worker subprocess runs in test_task_recovery.py: each start and finish leaves a line."""

import asyncio
from pathlib import Path

from webos_common.tasks import checkpoint, resume_point, task


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


@task(name="rerun:resumable", rerun_safe=False)
async def stepped(journal: str, steps: int) -> str:
    """Not safe to re-run, but it checkpoints after each step: a new worker goes on from there."""
    path = Path(journal)
    done = (await resume_point() or {}).get("next", 0)
    with path.open("a") as f:
        f.write(f"begin {done}\n")
    for step in range(done, steps):
        await asyncio.sleep(1.0)
        with path.open("a") as f:
            f.write(f"step {step}\n")
        await checkpoint({"next": step + 1}, percent=100 * (step + 1) / steps, message=f"step {step}")
    return "done"
