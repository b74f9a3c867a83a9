"""The transactional outbox: documents and their events in one MongoDB
transaction, relayed to JetStream afterwards.

    async with outbox.transaction() as tx:
        await db.items.insert_one(item, session=tx.session)
        tx.add("item:created", {"id": item["_id"]})

A process that dies after the commit loses nothing: the row stays
`pending` and the next relay (this process restarted, or another replica)
publishes it. The envelope id is the row id and the `Nats-Msg-Id`, so a
row published twice (crash between publish and mark) reaches consumers once.

A row whose subject NATS refuses this process (its permissions: a module
host not granted `<entity>:access_changed`) is set aside as `refused`, with
the reason and time, and kept: `webos_outbox_refused_total` counts it, the
relay warns once per subject, and `Outbox.replay_refused` (an operator's
`webos events refused --replay`) makes it pending again once the permission
is fixed. See `OutboxRelay` for what that means for order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pymongo
from loguru import logger
from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession

from webos_common import context
from webos_common.bus import EventBus, PublishRefused
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.identity import BusIdentity
from webos_common.bus.schemas import validate_payload
from webos_common.bus.topics import topic_to_subject
from webos_common.bus.wire import current_user_snapshot
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.observability import metrics

PENDING, SENT, REFUSED = "pending", "sent", "refused"


class Outbox:
    """Stages events in `<service>_outbox` inside the caller's transaction."""

    def __init__(self, db: Any, *, service: str, collection: str | None = None,
                 keep_sent_seconds: int = 7 * 86400, identity: BusIdentity | None = None) -> None:
        self.db = db
        # the person's identity token is obtained when the row is written (in the person's request)
        # and relayed with it: the relay runs later, with no person in its context
        self.identity = identity or BusIdentity.unchecked()
        self.service = service
        self.collection = db[collection or f"{service}_outbox"]
        self.keep_sent_seconds = keep_sent_seconds
        self.committed = asyncio.Event()

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("status", pymongo.ASCENDING), ("created_at", pymongo.ASCENDING)])
        await self.collection.create_index("sent_at", expireAfterSeconds=self.keep_sent_seconds)

    def envelope(self, topic: str, payload: BaseModel | dict[str, Any] | None,
                 identity: str | None = None) -> EventEnvelope:
        topic_to_subject(topic)
        envelope = EventEnvelope.create(topic, validate_payload(topic, payload), source=self.service)
        if identity is None and self.identity.required and envelope.user_id:
            envelope.user_id = None  # no proof of the person: the event is the process's own
        return envelope

    async def identity_token(self) -> str | None:
        """The identity token of the context's person (None: no person, or no proof of one)."""
        return await self.identity.token(context.current_user.get())

    async def stage(self, session: AsyncClientSession, topic: str,
                    payload: BaseModel | dict[str, Any] | None = None) -> EventEnvelope:
        """Insert an outbox row in `session`'s transaction; return its envelope."""
        identity = await self.identity_token()
        envelope = self.envelope(topic, payload, identity)
        await self.collection.insert_one(self._row(envelope, identity), session=session)
        return envelope

    def _row(self, envelope: EventEnvelope, identity: str | None = None) -> dict[str, Any]:
        return {
            "_id": envelope.id, "envelope": envelope.model_dump(mode="json"), "user": current_user_snapshot(),
            "identity": identity, "status": PENDING, "created_at": datetime.now(UTC), "attempts": 0,
        }

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[OutboxTransaction]:
        """A MongoDB transaction whose `add`ed events commit with the documents."""
        async with self.db.client.start_session() as session, await session.start_transaction():
            tx = OutboxTransaction(self, session)
            yield tx
            if tx.rows:
                await self.collection.insert_many(tx.rows, session=session)
        self.committed.set()

    async def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        cursor = self.collection.find({"status": PENDING}).sort([("created_at", 1), ("_id", 1)]).limit(limit)
        return [row async for row in cursor]

    async def refused(self, limit: int = 100) -> list[dict[str, Any]]:
        """The rows NATS refused, oldest first (kept until replayed)."""
        cursor = self.collection.find({"status": REFUSED}).sort([("created_at", 1), ("_id", 1)]).limit(limit)
        return [row async for row in cursor]

    async def replay_refused(self, topic: str | None = None) -> int:
        """Make the refused rows (of `topic`) pending again, in their first order; return how many."""
        query: dict[str, Any] = {"status": REFUSED}
        if topic is not None:
            query["envelope.topic"] = topic
        result = await self.collection.update_many(
            query, {"$set": {"status": PENDING}, "$unset": {"refused_at": "", "reason": ""}})
        if result.modified_count:
            self.committed.set()
        return int(result.modified_count)


class OutboxTransaction:
    def __init__(self, outbox: Outbox, session: AsyncClientSession) -> None:
        self.outbox = outbox
        self.session = session
        self.rows: list[dict[str, Any]] = []

    def add(self, topic: str, payload: BaseModel | dict[str, Any] | None = None, *,
            identity: str | None = None) -> EventEnvelope:
        """Stage an event (validated now; written at commit with the documents); `identity` is
        `await outbox.identity_token()`, taken before the transaction."""
        envelope = self.outbox.envelope(topic, payload, identity)
        self.rows.append(self.outbox._row(envelope, identity))
        return envelope


class OutboxRelay:
    """Publishes pending rows in order, a batch at a time, and marks them sent.

    A batch is sent in order without waiting, then its acknowledgements are
    gathered, and the rows acknowledged before the first failure are marked
    sent in one write. Rows after a failure stay pending: the next round
    sends them again and the stream drops the copies it already has (the
    envelope id is the `Nats-Msg-Id`), so a record's events keep their order
    and none is lost or delivered twice. A NATS that is slow or away (no
    acknowledgement, no connection) is such a failure: its rows wait.

    A row NATS refuses for good (`PublishRefused`: this process may not
    publish its subject) is not a failure that waits: it is set aside as
    `refused` and the rows after it go on. Waiting would not help (the
    permission is missing until an operator grants it) and held every later
    event of the module: minutes late or never, their identity tokens
    expired. So a record's later events on other subjects are published
    after its refused one was set aside, ahead of it: the order is kept per
    subject (every row of a refused subject is refused, and a replay sends
    them in their first order), not across a refused subject. The other
    choice, holding a record's later events behind its refused one, was
    weighed and not taken: one missing permission would silently stop the
    events of every record that ever had such an event (in the tasks module,
    every shared or assigned task), the failure this class exists to end,
    and a replay would still be needed. A consumer that must see a record's
    events strictly in order sees the refused one late (after a replay) or
    never; the event log orders a record's history by each event's own time
    (`timestamp`, taken at the write), so a replayed event takes its place."""

    def __init__(self, outbox: Outbox, bus: EventBus, *, interval: float = 0.5, batch: int = 100) -> None:
        self.outbox = outbox
        self.bus = bus
        self.interval = interval
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self._told: set[str] = set()  # the refused subjects already warned about
        self._failures = 0  # rounds failed in a row (an outage is warned about once)

    async def run_once(self) -> int:
        """Relay what is pending now; return how many rows were published."""
        return (await self._round())[1]

    async def _round(self) -> tuple[int, int]:
        """Relay one batch; return how many rows it had and how many were published."""
        rows = await self.outbox.pending(self.batch)
        acks, failure = await self._send(rows)
        sent: list[Any] = []
        refused: list[tuple[dict[str, Any], PublishRefused]] = []
        for row, result in zip(rows, await asyncio.gather(*acks, return_exceptions=True), strict=False):
            if isinstance(result, PublishRefused):
                refused.append((row, result))
            elif isinstance(result, BaseException):
                failure = failure or result
                break
            else:
                sent.append(row["_id"])
        if sent:
            await self.outbox.collection.update_many(
                {"_id": {"$in": sent}},
                {"$set": {"status": SENT, "sent_at": datetime.now(UTC)}, "$inc": {"attempts": 1}})
        await self._set_aside(refused)
        if failure is not None:
            raise failure
        return len(rows), len(sent)

    async def _send(self, rows: list[dict[str, Any]]) -> tuple[list[asyncio.Future[bool]], BaseException | None]:
        """Send rows in order without waiting; stop at the first that cannot be sent."""
        acks: list[asyncio.Future[bool]] = []
        for row in rows:
            try:
                envelope = EventEnvelope.model_validate(row["envelope"])
                acks.append(await self.bus.send(envelope, user=row.get("user"), identity=row.get("identity")))
            except Exception as exc:  # noqa: BLE001 - the rows sent so far still count
                return acks, exc
        return acks, None

    async def _set_aside(self, refused: list[tuple[dict[str, Any], PublishRefused]]) -> None:
        """Mark refused rows (kept, with why and when), count them, warn once per subject."""
        by_subject: dict[str, list[dict[str, Any]]] = {}
        for row, exc in refused:
            by_subject.setdefault(exc.subject, []).append(row)
            metrics.outbox_refused(self.outbox.service, row["envelope"]["topic"])
        for subject, rows in by_subject.items():
            reason = next(exc.reason for _, exc in refused if exc.subject == subject)
            await self.outbox.collection.update_many(
                {"_id": {"$in": [row["_id"] for row in rows]}},
                {"$set": {"status": REFUSED, "refused_at": datetime.now(UTC), "reason": reason},
                 "$inc": {"attempts": 1}})
            if subject not in self._told:
                self._told.add(subject)
                logger.warning("outbox of {}: NATS refused {} event(s) on {} ({}); set aside as refused, "
                               "the others go on (docs/operations.md#webos-outbox-refused)",
                               self.outbox.service, len(rows), subject, reason)

    async def run(self) -> None:
        while True:
            self.outbox.committed.clear()
            try:
                handled = (await self._round())[0]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS or MongoDB away: try again later
                self._failed(exc)
            else:
                self._recovered()
                if handled >= self.batch:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.committed.wait(), timeout=self.interval)

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        if self._failures == 1:
            logger.warning("outbox relay of {} failed: {}; its events wait, in order, retried every {} s "
                           "(said once until it publishes again)", self.outbox.service, exc, self.interval)
        else:
            logger.debug("outbox relay of {} failed again ({}): {}", self.outbox.service, self._failures, exc)

    def _recovered(self) -> None:
        if self._failures:
            logger.info("outbox relay of {} publishes again after {} failed round(s)",
                        self.outbox.service, self._failures)
            self._failures = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"outbox:{self.outbox.service}")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task, what="outbox relay")
            self._task = None
