"""Reaching a dependency at start: retried with backoff until a deadline, every
failed attempt logged at WARNING with the dependency's name and address, then
`DependencyUnreachable` — which ends the process with a non-zero status — so a
restart loop on Kubernetes names what is missing instead of hanging.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from loguru import logger

T = TypeVar("T")


class DependencyUnreachable(ConnectionError):
    """A dependency did not answer within the start-up deadline."""


def redact(url: str) -> str:
    """The address without its password (`user:secret@host` → `user:***@host`)."""
    return re.sub(r"(//[^/:@]+:)[^@/]*@", r"\1***@", url)


async def retry_until(attempt: Callable[[], Awaitable[T]], *, what: str, deadline: float,
                      retry_on: tuple[type[BaseException], ...] = (Exception,),
                      fatal: tuple[type[BaseException], ...] = (), first_wait: float = 0.25,
                      max_wait: float = 2.0) -> T:
    """`await attempt()` until it succeeds or `deadline` seconds passed; a `fatal` error
    (a refused credential: retrying cannot help) is raised at once."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    wait, tries = first_wait, 0
    while True:
        tries += 1
        try:
            return await attempt()
        except fatal:
            raise
        except retry_on as exc:
            left = give_up - loop.time()
            reason = f"{type(exc).__name__}: {exc}"[:300]
            if left <= 0:
                logger.error("{} not reachable after {} attempt(s) in {:.0f}s: {}", what, tries, deadline, reason)
                raise DependencyUnreachable(f"{what} not reachable within {deadline:.0f}s: {reason}") from exc
            logger.warning("{} not reachable (attempt {}, giving up in {:.0f}s): {}", what, tries, left, reason)
            await asyncio.sleep(min(wait, left))
            wait = min(wait * 2, max_wait)
