"""Adapters of the `EventPublisher` port: the outbox (documents and their
events in one MongoDB transaction, relayed to JetStream) and the bus
directly (for code without a transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from webos_common.bus import EventBus
from webos_common.documents.outbox import Outbox
from webos_common.documents.transactions import run_transaction

T = TypeVar("T")


class OutboxPublisher:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """A MongoDB session in a transaction; events emitted with it commit with the writes."""
        async with self.outbox.db.client.start_session() as session, await session.start_transaction():
            yield session
        self.outbox.committed.set()

    async def atomically(self, work: Callable[[Any], Awaitable[T]], *, what: str = "The record") -> T:
        result = await run_transaction(self.outbox.db.client, work, what=what)
        self.outbox.committed.set()
        return result

    async def emit(self, topic: str, payload: Mapping[str, Any], *, session: Any = None) -> None:
        if session is not None:
            await self.outbox.stage(session, topic, dict(payload))
            return
        identity = await self.outbox.identity_token()  # before the transaction: it may ask auth
        async with self.outbox.transaction() as tx:
            tx.add(topic, dict(payload), identity=identity)


class BusPublisher:
    """Publishes at once (no transaction): for services without an outbox."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        yield None

    async def atomically(self, work: Callable[[Any], Awaitable[T]], *, what: str = "The record") -> T:
        return await work(None)

    async def emit(self, topic: str, payload: Mapping[str, Any], *, session: Any = None) -> None:
        await self.bus.emit(topic, dict(payload))
