"""MongoDB transactions retried in one place.

    result = await run_transaction(client, work)   # work(session) -> result

`work` runs inside a transaction; when MongoDB answers that the
transaction lost a race (`TransientTransactionError`: a write conflict,
code 112, or a primary stepping down) the whole of `work` runs again in a
new transaction, after a random pause that grows with each attempt (full
jitter), so ten writers of one record spread out instead of colliding
again. A commit whose outcome is unknown (`UnknownTransactionCommitResult`)
is retried as a commit. Everything `work` reads that decides a write must
be read with `session`: a retry re-reads it. When the attempts run out the
caller gets a `Conflict` (409) saying so, never a 500.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from webos_common.http.errors import Conflict

T = TypeVar("T")

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"
WRITE_CONFLICT = 112

ATTEMPTS = 12
BASE_DELAY = 0.004  # seconds; the n-th retry waits up to BASE_DELAY * 2**n, capped
MAX_DELAY = 0.25


def is_transient(exc: BaseException) -> bool:
    """A transaction error worth running the transaction again for."""
    if not isinstance(exc, PyMongoError):
        return False
    if exc.has_error_label(TRANSIENT):
        return True
    return isinstance(exc, OperationFailure) and exc.code == WRITE_CONFLICT


def backoff(attempt: int, *, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Full jitter: a random pause in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * 2**attempt))


async def run_transaction(client: Any, work: Callable[[Any], Awaitable[T]], *, attempts: int = ATTEMPTS,
                          what: str = "The record") -> T:
    """Run `work(session)` in a transaction, retrying transient failures; `Conflict` when they persist."""
    for attempt in range(attempts):
        try:
            async with client.start_session() as session:
                await session.start_transaction()
                try:
                    result = await work(session)
                except BaseException:
                    if session.in_transaction:
                        await session.abort_transaction()
                    raise
                await _commit(session)
                return result
        except (OperationFailure, ConnectionFailure) as exc:
            if not is_transient(exc):
                raise
            if attempt < attempts - 1:
                await asyncio.sleep(backoff(attempt))
    raise Conflict(f"{what} was changed by others at the same time; {attempts} attempts failed, try again",
                   details={"attempts": attempts})


async def _commit(session: Any) -> None:
    for attempt in range(ATTEMPTS):
        try:
            await session.commit_transaction()
            return
        except (OperationFailure, ConnectionFailure) as exc:
            if not exc.has_error_label(UNKNOWN_COMMIT) or attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(backoff(attempt))


async def retry_transient(work: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """A single write outside a transaction, retried on the same transient errors."""
    for attempt in range(attempts):
        try:
            return await work()
        except (OperationFailure, ConnectionFailure) as exc:
            if not (is_transient(exc) or exc.has_error_label("RetryableWriteError")) or attempt == attempts - 1:
                raise
            await asyncio.sleep(backoff(attempt))
    raise AssertionError("unreachable")
