"""The outbox against a real MongoDB replica set and NATS JetStream."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from webos_common import context
from webos_common.bus import BusSettings, EventBus, register_event
from webos_common.bus.envelope import EventEnvelope
from webos_common.documents.db import mongo_client
from webos_common.documents.outbox import Outbox, OutboxRelay
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User


@pytest.fixture
async def db(mongo_url: str, db_name: str):
    client = mongo_client(mongo_url)
    yield client[db_name]
    await client.close()


async def wait_for(check, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def started_bus(nc: NATS, service: str, topic: str, seen: list[EventEnvelope]) -> EventBus:
    bus = EventBus(nc, service=service, settings=BusSettings(backoff=[0.05]))

    @bus.on(topic)
    async def handler(event: EventEnvelope) -> None:
        seen.append(event)

    await bus.start()
    return bus


async def test_documents_and_events_commit_together_and_the_relay_publishes(nc, db) -> None:
    topic = f"o{uuid.uuid4().hex[:8]}:created"
    seen: list[EventEnvelope] = []
    consumer = await started_bus(nc, "outbox-consumer", topic, seen)
    outbox = Outbox(db, service="items")
    await outbox.ensure_indexes()
    alice = User(id="alice")
    with context.as_user(alice):
        async with outbox.transaction() as tx:
            await db.items.insert_one({"_id": "i1", "name": "chair"}, session=tx.session)
            sent = tx.add(topic, {"id": "i1"})
    relay = OutboxRelay(outbox, EventBus(nc, service="items"), interval=0.05)
    relay.start()
    try:
        await wait_for(lambda: len(seen) == 1)
    finally:
        await relay.stop()
        await consumer.close()
    assert seen[0].id == sent.id and seen[0].user_id == "alice"
    row = await outbox.collection.find_one({"_id": sent.id})
    assert row["status"] == "sent" and row["sent_at"] is not None


async def test_a_failed_transaction_writes_neither_documents_nor_events(db) -> None:
    outbox = Outbox(db, service="items")
    with pytest.raises(RuntimeError):
        async with outbox.transaction() as tx:
            await db.items.insert_one({"_id": "i2"}, session=tx.session)
            tx.add("item:created", {"id": "i2"})
            raise RuntimeError("validation further down failed")
    assert await db.items.count_documents({}) == 0
    assert await outbox.collection.count_documents({}) == 0


class Shipped(BaseModel):
    order_id: str


async def test_a_bad_payload_is_refused_before_anything_is_written(db) -> None:
    topic = f"o{uuid.uuid4().hex[:8]}:shipped"
    register_event(topic, Shipped)
    outbox = Outbox(db, service="orders")
    with pytest.raises(ValidationFailed):
        async with outbox.transaction() as tx:
            await db.orders.insert_one({"_id": "o1"}, session=tx.session)
            tx.add(topic, {"order": "o1"})
    assert await db.orders.count_documents({}) == 0
    assert await outbox.collection.count_documents({}) == 0


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from webos_common.documents.db import mongo_client
    from webos_common.documents.outbox import Outbox

    async def main(url, db_name, topic):
        db = mongo_client(url)[db_name]
        outbox = Outbox(db, service="items")
        async with outbox.transaction() as tx:
            await db.items.insert_one({"_id": "k1", "name": "lamp"}, session=tx.session)
            env = tx.add(topic, {"id": "k1"})
        print(env.id, flush=True)   # committed; the relay never ran
        time.sleep(60)

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_sigkill_after_commit_loses_nothing_and_consumers_see_it_once(nc, db, mongo_url, db_name) -> None:
    topic = f"o{uuid.uuid4().hex[:8]}:stocked"
    seen: list[EventEnvelope] = []
    consumer = await started_bus(nc, "stock-consumer", topic, seen)
    child = subprocess.Popen([sys.executable, "-c", CHILD, mongo_url, db_name, topic],
                             stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), timeout=30)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    envelope_id = line.strip()
    assert child.returncode == -signal.SIGKILL
    assert await db.items.find_one({"_id": "k1"}) is not None

    outbox = Outbox(db, service="items")  # the restarted process
    relay = OutboxRelay(outbox, EventBus(nc, service="items"))
    try:
        assert await relay.run_once() == 1
        await wait_for(lambda: len(seen) == 1)
        # crash between publish and mark: the row is relayed again, the stream drops it
        await outbox.collection.update_one({"_id": envelope_id}, {"$set": {"status": "pending"}})
        assert await relay.run_once() == 1
        await asyncio.sleep(0.3)
    finally:
        await consumer.close()
    assert [e.id for e in seen] == [envelope_id]
    assert seen[0].payload == {"id": "k1"}
