"""Stopping background tasks within a bounded time: the one helper every
service, host and worker uses at shutdown.

A plain `task.cancel(); await task` can wait for ever: a cancel that lands
while the task is inside nats-py's publish path is swallowed
(`Client._flush_pending` catches CancelledError), and on Python 3.11
`asyncio.wait_for` drops a cancel that arrives in the same loop iteration as
the result it waited for (nats-py's `request` and `KeyValue.watch` use it).
The task then runs on — a watcher waits for the next key — and shutdown
hangs. So: cancel, wait a little, cancel again, until every task ended or
the deadline passed; a task still running then is named in a warning and
left behind, never waited for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from loguru import logger

DEFAULT_DEADLINE = 5.0
_RECANCEL = 0.2  # how often a cancel is repeated while a task runs on


async def cancel_and_wait(tasks: asyncio.Future[Any] | Iterable[asyncio.Future[Any] | None] | None, *,
                          deadline: float = DEFAULT_DEADLINE, what: str = "background task") -> bool:
    """Cancel `tasks` (one, or several; None entries ignored) and wait until they ended, at
    most `deadline` seconds. True when all ended; False (and a warning) otherwise."""
    if tasks is None:
        return True
    group = [tasks] if isinstance(tasks, asyncio.Future) else [t for t in tasks if t is not None]
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    pending = {t for t in group if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        remaining = give_up - loop.time()
        if remaining <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(_RECANCEL, remaining))
    for task in group:
        if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
            logger.opt(exception=exc).debug("{} ended with {}", what, type(exc).__name__)
    if pending:
        names = ", ".join(sorted(_name(t) for t in pending))
        logger.warning("{}: {} task(s) still running {:.1f}s after cancel, left behind: {}",
                       what, len(pending), deadline, names)
        return False
    return True


def _name(task: asyncio.Future[Any]) -> str:
    return task.get_name() if isinstance(task, asyncio.Task) else repr(task)
