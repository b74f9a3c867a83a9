"""Reaching a dependency at start: retried with backoff until a deadline, every
failed attempt logged at WARNING with the dependency's name and address, then
`DependencyUnreachable` — which ends the process with a non-zero status — so a
restart loop on Kubernetes names what is missing instead of hanging.

A dependency a process can start without but cannot serve without — auth's JWKS,
storage's home source on S3 — is a `Gate` instead: the process starts, its
readiness check fails naming the dependency (so `/readyz` answers 503 and no
traffic is sent), and the same retry loop, without a deadline, keeps trying in
the background until the dependency answers once.
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


async def retry_until(attempt: Callable[[], Awaitable[T]], *, what: str, deadline: float | None,
                      retry_on: tuple[type[BaseException], ...] = (Exception,),
                      fatal: tuple[type[BaseException], ...] = (), first_wait: float = 0.25,
                      max_wait: float = 2.0) -> T:
    """`await attempt()` until it succeeds or `deadline` seconds passed (None: for ever); a
    `fatal` error (a refused credential: retrying cannot help) is raised at once."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + (deadline if deadline is not None else float("inf"))
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
            until = f"giving up in {left:.0f}s" if deadline is not None else f"next try in {min(wait, max_wait):.1f}s"
            logger.warning("{} not reachable (attempt {}, {}): {}", what, tries, until, reason)
            await asyncio.sleep(min(wait, left))
            wait = min(wait * 2, max_wait)


class Gate:
    """A dependency awaited in the background (see the module's docstring). `attempt` raises
    while the dependency does not answer; `check` is the readiness check; `wait` the loop,
    run as a background task of the service. Each attempt is bounded by `timeout`."""

    def __init__(self, what: str, attempt: Callable[[], Awaitable[object]], *, timeout: float = 5.0,
                 max_wait: float = 10.0, then: Callable[[], Awaitable[object]] | None = None) -> None:
        self.what, self.timeout, self.max_wait = what, timeout, max_wait
        self.reason: str | None = "not tried yet"
        self._attempt, self._then = attempt, then

    @property
    def open(self) -> bool:
        return self.reason is None

    async def check(self) -> None:
        if self.reason is not None:
            raise ConnectionError(f"waiting for {self.what}: {self.reason}")

    async def _try(self) -> None:
        try:
            await asyncio.wait_for(self._attempt(), self.timeout)
        except Exception as exc:
            self.reason = f"{type(exc).__name__}: {exc}"[:300]
            raise

    async def wait(self) -> None:
        await retry_until(self._try, what=self.what, deadline=None, max_wait=self.max_wait)
        if self._then is not None:
            try:
                await self._then()
            except Exception as exc:  # noqa: BLE001 - what follows is a nicety; the dependency is there
                logger.warning("{} answers, but what follows failed: {}", self.what, exc)
        self.reason = None
        logger.info("{} answers: ready", self.what)
