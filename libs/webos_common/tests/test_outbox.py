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
from webos_common.bus.connection import connect_nats
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.topics import event_subject
from webos_common.documents.db import mongo_client
from webos_common.documents.outbox import Outbox, OutboxRelay
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User
from webos_common.infra import NatsServer
from webos_common.observability.metrics import HttpMetrics
from webos_common.security.credentials import CredentialStore
from webos_common.testing.bus import provision_now
from webos_common.testing.plugin import wait_credential


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


async def _stage(outbox: Outbox, topics: list[str]) -> list[str]:
    """One committed transaction per event, in this order; their ids."""
    ids = []
    for n, topic in enumerate(topics):
        async with outbox.transaction() as tx:
            ids.append(tx.add(topic, {"id": f"r{n}"}).id)
    return ids


async def test_a_subject_nats_refuses_is_set_aside_and_the_rows_after_it_go_on(
        nats_server: NatsServer, nats_credentials: CredentialStore, nc: NATS, db, log_lines) -> None:
    name, entity = f"mod{uuid.uuid4().hex[:6]}", f"o{uuid.uuid4().hex[:8]}"
    good, forbidden = f"{entity}:created", f"{entity}:access_changed"
    seed = nats_credentials.issue(name, "module", emits=[good])  # not granted `access_changed`
    nats_server.reload()
    await wait_credential(nats_server.url, seed, principal=name)
    seen: list[EventEnvelope] = []
    consumer = await started_bus(nc, f"seer{entity}", f"{entity}:*", seen)
    client = await connect_nats(nats_server.url, name=name, credential_file=seed, principal=name)
    outbox = Outbox(db, service=name)
    await outbox.ensure_indexes()
    ids = await _stage(outbox, [good, good, forbidden, good, forbidden, good])
    # batches of two: a refused row that held its batch would hold every row after it
    relay = OutboxRelay(outbox, EventBus(client, service=name), interval=0.05, batch=2)
    relay.start()
    try:  # promptly: the refusal is known long before an acknowledgement is overdue (5 s)
        await wait_for(lambda: len(seen) == 4, timeout=3)
        await asyncio.sleep(0.5)  # more rounds: a refused row is not sent again
    finally:
        await relay.stop()
        await consumer.close()
        await client.close()
    assert [e.id for e in seen] == [ids[0], ids[1], ids[3], ids[5]]
    rows = {row["_id"]: row async for row in outbox.collection.find({})}
    assert [rows[i]["status"] for i in ids] == ["sent", "sent", "refused", "sent", "refused", "sent"]
    assert [row["_id"] for row in await outbox.refused()] == [ids[2], ids[4]]
    for i in (ids[2], ids[4]):
        assert rows[i]["attempts"] == 1 and rows[i]["refused_at"] is not None
        assert "permissions violation" in rows[i]["reason"].lower()
    told = [line for line in log_lines if line.startswith("WARNING outbox of")]
    assert len(told) == 1 and event_subject(forbidden, name) in told[0], told  # once, though refused twice
    text = HttpMetrics("probe").render().decode()
    assert f'webos_outbox_refused_total{{service="{name}",topic="{forbidden}"}} 2.0' in text

    # the permission granted (here: a connection that has it), a replay sends them, in their order
    assert await outbox.replay_refused(forbidden) == 2
    assert await OutboxRelay(outbox, EventBus(nc, service=name)).run_once() == 2
    assert await outbox.collection.count_documents({"status": "sent"}) == 6


@pytest.mark.integration  # its own NATS server, stopped and started again
async def test_nats_stopped_keeps_the_rows_pending_in_order_and_they_all_go_once_it_is_back(
        tmp_path, db, log_lines) -> None:
    server = NatsServer(tmp_path / "nats", log_path=tmp_path / "nats.log", die_with_parent=True)
    await asyncio.to_thread(server.start)
    try:
        await asyncio.to_thread(provision_now, server.url)
        client = await connect_nats(server.url, name="items")
        outbox = Outbox(db, service="items")
        topic = f"o{uuid.uuid4().hex[:8]}:created"
        seen: list[EventEnvelope] = []
        consumer = await started_bus(client, "outage-seer", topic, seen)
        relay = OutboxRelay(outbox, EventBus(client, service="items", settings=BusSettings(publish_timeout=0.5)),
                            interval=0.05)
        try:
            await asyncio.to_thread(server.stop)
            ids = await _stage(outbox, [topic] * 5)
            relay.start()
            await asyncio.sleep(1.5)  # rounds that time out: no refusal, so nothing is set aside
            assert [row["_id"] for row in await outbox.pending()] == ids
            assert await outbox.collection.count_documents({"status": {"$ne": "pending"}}) == 0
            await asyncio.to_thread(server.start)
            await wait_for(lambda: len(seen) == 5, timeout=15)
            await asyncio.sleep(0.5)
            assert await outbox.collection.count_documents({"status": "sent"}) == 5
            await wait_for(lambda: any(line.startswith("INFO outbox relay of items publishes again")
                                       for line in log_lines))
        finally:
            await relay.stop()
            await consumer.close()
            await client.close()
        assert [e.id for e in seen] == ids  # each once, in order
        failed = [line for line in log_lines if line.startswith("WARNING outbox relay of items failed")]
        assert len(failed) == 1, failed  # an outage is said once, not every round
    finally:
        await asyncio.to_thread(server.stop)
