"""The bus against a real NATS JetStream server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from webos_common import context
from webos_common.bus import BusSettings, DeadLetter, EventBus, register_event, replay_dead_letter
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.topics import event_subject
from webos_common.bus.wire import envelope_of
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User
from webos_common.testing.bus import dead_letters, eventually

FAST = BusSettings(backoff=[0.05, 0.1], max_deliver=3)


@pytest.fixture
def entity() -> str:
    """A topic entity no other test uses."""
    return f"e{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def buses(nc: NATS) -> AsyncIterator[Callable[[str], EventBus]]:
    made: list[EventBus] = []

    def make(service: str) -> EventBus:
        bus = EventBus(nc, service=service, settings=FAST)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


async def test_handler_gets_the_envelope_with_the_emitters_user_and_trace(buses, entity) -> None:
    svc = f"svc{uuid.uuid4().hex[:6]}"
    bus = buses(svc)
    seen: list[tuple[EventEnvelope, Any, str | None]] = []

    @bus.on(f"{entity}:*")
    async def handler(event: EventEnvelope) -> None:
        seen.append((event, context.current_user.get(), context.trace_id.get()))

    await bus.start()
    alice = User(id="alice", username="alice", roles=("editor",), permissions=("files.read",))
    trace = context.new_trace_id()
    with context.use({"user": alice.model_dump(mode="json"), "trace_id": trace, "span_id": context.new_span_id()}):
        sent = await bus.emit(f"{entity}:created", {"urn": "fs://a/b"})
    await eventually(lambda: len(seen) == 1)
    event, user, seen_trace = seen[0]
    assert event.id == sent.id and event.payload == {"urn": "fs://a/b"} and event.source == svc
    assert user == alice and user.permissions == ("files.read",)
    assert seen_trace == trace


async def test_replicas_share_each_event_and_services_each_get_it(buses, entity) -> None:
    svc, other = f"inv{uuid.uuid4().hex[:6]}", f"bill{uuid.uuid4().hex[:6]}"
    got: dict[str, list[str]] = {"r1": [], "r2": [], "other": []}

    def recorder(key: str) -> Callable[[EventEnvelope], Any]:
        async def handle(event: EventEnvelope) -> None:
            got[key].append(event.id)
            await asyncio.sleep(0.001)
        return handle

    for key, service in (("r1", svc), ("r2", svc), ("other", other)):
        bus = buses(service)
        bus.subscribe(f"{entity}:paid", recorder(key), name="on_paid")
        await bus.start()
    emitter = buses("shop")
    sent = [(await emitter.emit(f"{entity}:paid", {"n": i})).id for i in range(40)]

    await eventually(lambda: len(got["r1"]) + len(got["r2"]) == 40 and len(got["other"]) == 40)
    await asyncio.sleep(0.2)  # nothing more may arrive
    between = got["r1"] + got["r2"]
    assert sorted(between) == sorted(sent)  # exactly once between the replicas
    assert sorted(got["other"]) == sorted(sent)


async def test_failing_handler_is_retried_then_dead_lettered_and_replay_delivers_again(nc, buses, entity) -> None:
    svc = f"flaky{uuid.uuid4().hex[:6]}"
    bus = buses(svc)
    attempts: list[int] = []
    healthy = False

    @bus.on(f"{entity}:sync", name="sync")
    async def handler(event: EventEnvelope) -> None:
        attempts.append(1)
        if not healthy:
            raise RuntimeError("downstream is down")

    await bus.start()
    sent = await bus.emit(f"{entity}:sync", {"k": 1})
    await eventually(lambda: len(attempts) == 3)
    letters: list[tuple[int, DeadLetter]] = []

    async def collect() -> None:
        letters.extend(await dead_letters(nc, f"{svc}--"))

    for _ in range(50):
        await collect()
        if letters:
            break
    assert len(letters) == 1
    _, letter = letters[0]
    assert letter.reason == "handler_failed" and letter.attempts == 3
    assert "downstream is down" in letter.error
    assert letter.envelope is not None and letter.envelope["id"] == sent.id
    assert len(attempts) == 3  # no fourth attempt

    healthy = True
    await replay_dead_letter(bus.js, letter)
    await eventually(lambda: len(attempts) == 4)


async def test_duplicate_id_is_dropped(buses, entity) -> None:
    bus = buses(f"dup{uuid.uuid4().hex[:6]}")
    seen: list[str] = []

    @bus.on(f"{entity}:made")
    async def handler(event: EventEnvelope) -> None:
        seen.append(event.id)

    await bus.start()
    first = await bus.emit(f"{entity}:made", {"n": 1}, id="same-id-1")
    second = await bus.emit(f"{entity}:made", {"n": 2}, id="same-id-1")
    await bus.emit(f"{entity}:made", {"n": 3})
    await eventually(lambda: len(seen) == 2)
    await asyncio.sleep(0.2)
    assert first.id == second.id
    assert seen.count("same-id-1") == 1 and len(seen) == 2


class Paid(BaseModel):
    order_id: str
    amount: float


async def test_bad_payload_raises_on_emit_and_dead_letters_on_consume(nc, buses, entity) -> None:
    topic = f"{entity}:paid"
    register_event(topic, Paid)
    svc = f"typed{uuid.uuid4().hex[:6]}"
    bus = buses(svc)
    received: list[Paid] = []

    @bus.on(topic, name="paid")
    async def handler(event: Paid) -> None:
        received.append(event)

    await bus.start()
    with pytest.raises(ValidationFailed) as err:
        await bus.emit(topic, {"order_id": "o1", "amount": "lots"})
    assert "amount" in err.value.message
    await bus.emit(topic, {"order_id": "o2", "amount": 9.5})
    await eventually(lambda: len(received) == 1)
    assert received[0] == Paid(order_id="o2", amount=9.5)  # the rejected emit published nothing

    # a producer without the schema publishes a bad payload straight to the stream
    bad = EventEnvelope(topic=topic, payload={"order_id": "o3"}, source="rogue")
    await nc.jetstream().publish(event_subject(topic, "rogue"), bad.to_json())
    letters: list[tuple[int, DeadLetter]] = []
    for _ in range(50):
        letters += await dead_letters(nc, f"{svc}--")
        if letters:
            break
    assert [(dl.reason, dl.attempts) for _, dl in letters] == [("invalid_payload", 1)]
    assert "amount" in letters[0][1].error
    assert len(received) == 1


async def test_handler_subscribed_after_start_gets_a_consumer(buses, entity) -> None:
    bus = buses(f"late{uuid.uuid4().hex[:6]}")
    await bus.start()
    seen: list[str] = []

    async def late(event: EventEnvelope) -> None:
        seen.append(event.topic)

    bus.subscribe(f"{entity}:>", late)
    await bus.wait_ready()
    await bus.emit(f"{entity}:moved", {})
    await eventually(lambda: seen == [f"{entity}:moved"])


async def test_a_lone_event_is_not_held_back_until_the_batch_fills(nc, entity) -> None:
    from webos_common.bus.pull import pull_messages

    bus = EventBus(nc, service=f"lone{uuid.uuid4().hex[:6]}", settings=FAST)
    seen: list[str] = []
    bus.subscribe(f"{entity}:pinged", lambda e: _append(seen, e.id), name="ping")
    await bus.start()
    await bus.close()  # leave the durable consumer in place; pull it by hand below
    pulled = pull_messages(nc, stream=FAST.stream, durable=bus.subscriptions[0].durable, batch=64, expires=30)
    first = asyncio.ensure_future(anext(pulled))
    await asyncio.sleep(0.3)  # the pull request is waiting on the server before the event exists
    sent = await bus.emit(f"{entity}:pinged", {})
    msg = await asyncio.wait_for(first, timeout=10)  # far less than the 30 s the request lives
    await msg.ack()
    await pulled.aclose()
    assert envelope_of(msg.headers, msg.data).id == sent.id


async def _append(items: list[str], value: str) -> None:
    items.append(value)


async def test_a_handler_slower_than_ack_wait_is_not_redelivered_meanwhile(nc, entity) -> None:
    bus = EventBus(nc, service=f"slow{uuid.uuid4().hex[:6]}", settings=BusSettings(ack_wait=0.6, backoff=[0.05]))
    runs: list[str] = []

    @bus.on(f"{entity}:crunched", name="crunch")
    async def crunch(event: EventEnvelope) -> None:
        runs.append(event.id)
        await asyncio.sleep(1.5)  # longer than ack_wait: the bus must say "still working"

    await bus.start()
    try:
        sent = await bus.emit(f"{entity}:crunched", {})
        await eventually(lambda: len(runs) >= 1)
        await asyncio.sleep(2.0)
    finally:
        await bus.close()
    assert runs == [sent.id]


async def test_emitting_to_a_pattern_or_a_malformed_topic_is_refused(buses) -> None:
    bus = buses("patterns")
    for topic in ("order:*", ">", "order", "or der:paid"):
        with pytest.raises(ValueError):
            await bus.emit(topic, {})
