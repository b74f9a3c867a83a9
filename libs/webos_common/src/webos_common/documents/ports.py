"""The ports of the data layer: the repository a service talks to, the
publisher its events leave through, and the page every list returns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

T = TypeVar("T")
D = TypeVar("D")
Filter = Mapping[str, Any]
Sort = Sequence[tuple[str, int]]

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# where `?meta=capped` stops counting: a grid's pager needs no exact million, and each row counted is a
# row read (a live row is `deleted_at: null`, which no index answers alone: 10,000 took 0.4-0.7 s, one
# person's on a million rows, bench/million.py)
COUNT_CAP = 1_000
# a bigger cap for the pages a process reads from its own routes in-process (the module host's export:
# `webos_modulehost.transfer`); no request from the network can set it
in_process_cap: ContextVar[int | None] = ContextVar("webos_in_process_cap", default=None)


class Page(BaseModel, Generic[T]):
    """`{items, total, skip, limit, has_more, next_cursor, more_than}` — the one list shape. `total` is null
    unless it was asked for (`?meta=total`) or is known anyway (the last page): counting every time costs a
    scan of every row. `?meta=capped` counts up to `COUNT_CAP` rows: past it `total` stays null and
    `more_than` is the cap (a pager says "more than 1,000", never a wrong number). `next_cursor` (sorted
    lists) asks for the rows after this page (`?cursor=`)."""

    items: list[T]
    total: int | None
    skip: int
    limit: int
    has_more: bool
    next_cursor: str | None = None
    more_than: int | None = None

    @classmethod
    def of(cls, items: list[Any], *, total: int, skip: int, limit: int) -> Page[Any]:
        return cls(items=items, total=total, skip=skip, limit=limit, has_more=skip + len(items) < total)


AnyPage = Page[Any]
"""One class for every page of validated rows: `Page[Any]` at each call makes the class again
whenever the garbage collector has taken the last one (pydantic keeps them weakly)."""

# where a process reading its own list routes in-process (as `in_process_cap`) takes each page as it is:
# a list route answering through `ListView` leaves its page here instead of encoding it as JSON, which
# the reader would only decode again; set by that reader, never by a request
in_process_pages: ContextVar[list[Page[Any]] | None] = ContextVar("webos_in_process_pages", default=None)


def cap_limit(limit: int | None, max_limit: int = MAX_LIMIT) -> int:
    if limit is None:
        return min(DEFAULT_LIMIT, max_limit)
    return max(1, min(int(limit), in_process_cap.get() or max_limit))


class Repository(Protocol[D]):
    """Scoped persistence of one document type: never sees soft-deleted rows
    (unless asked for the trash) nor, for owned documents, other users' rows."""

    async def insert(self, doc: D, *, session: Any = None) -> D: ...
    async def insert_many(self, docs: Sequence[D], *, session: Any = None) -> list[D]: ...
    async def get(self, id: Any, *, deleted: bool = False, session: Any = None) -> D: ...
    async def find(self, filter: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None, deleted: bool = False) -> list[D]: ...
    async def count(self, filter: Filter | None = None, *, deleted: bool = False, limit: int | None = None) -> int: ...
    async def page(self, filter: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None, deleted: bool = False, total: bool = False,
                   fields: Sequence[str] | None = None, cursor: str | None = None,
                   estimate: bool = False, count_cap: int | None = None) -> Page[Any]: ...
    async def update(self, id: Any, changes: Mapping[str, Any], *, version: int | None = None,
                     session: Any = None) -> D: ...
    async def update_from(self, id: Any, changes: Mapping[str, Any], *, version: int | None = None,
                          session: Any = None) -> tuple[D, D]: ...
    async def update_many(self, ids: Sequence[Any], changes: Mapping[str, Any], *,
                          versions: Mapping[str, int] | None = None, session: Any = None) -> int: ...
    async def delete(self, id: Any, *, version: int | None = None, session: Any = None) -> D: ...
    async def restore(self, id: Any, *, version: int | None = None, session: Any = None) -> D: ...
    async def purge(self, id: Any, *, session: Any = None) -> None: ...
    async def set_access(self, id: Any, *, shares: list[dict[str, str]] | None = None,
                         assignees: list[str] | None = None, version: int | None = None,
                         session: Any = None) -> D: ...
    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]: ...


class EventPublisher(Protocol):
    """Where a service's domain events go (the outbox, the bus, or a recorder).

    `transaction()` yields the session writes and events share (None when the
    publisher has no transaction): both commit, or neither does."""

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def atomically(self, work: Callable[[Any], Awaitable[T]], *, what: str = "The record") -> T:
        """`work(session)` in a transaction with the events it emits, run again when the transaction
        loses a race (so `work` reads what decides its writes with `session`)."""
        ...

    async def emit(self, topic: str, payload: Mapping[str, Any], *, session: Any = None) -> None: ...


@asynccontextmanager
async def no_transaction() -> AsyncIterator[Any]:
    yield None


class NullPublisher:
    def transaction(self) -> AbstractAsyncContextManager[Any]:
        return no_transaction()

    async def atomically(self, work: Callable[[Any], Awaitable[T]], *, what: str = "The record") -> T:
        return await work(None)

    async def emit(self, topic: str, payload: Mapping[str, Any], *, session: Any = None) -> None:
        return None


class RecordingPublisher:
    """Keeps what was emitted, for unit tests and for inspection."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        return no_transaction()

    async def atomically(self, work: Callable[[Any], Awaitable[T]], *, what: str = "The record") -> T:
        return await work(None)

    async def emit(self, topic: str, payload: Mapping[str, Any], *, session: Any = None) -> None:
        self.events.append((topic, dict(payload)))

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.events]
