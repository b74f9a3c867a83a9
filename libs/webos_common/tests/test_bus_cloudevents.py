"""Every event on the bus is a CloudEvent an outside team can read with its own stack.

The reading side uses only nats-py and the official `cloudevents` SDK (its
binary content-mode reader: `ce-*` headers, `content-type`, the body as data,
which is the NATS protocol binding's binary mode), never `webos_common`. The
writing side is each path the platform publishes by: `emit`, the outbox
relay's `publish` (with a person, identity token, trace and request id), and
a dead letter's replay.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import nats
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from cloudevents.v1.http import from_http
from nats.aio.msg import Msg

from webos_common import context
from webos_common.bus import BusSettings, EventBus, replay_dead_letter
from webos_common.bus.deadletter import DeadLetter
from webos_common.bus.envelope import EventEnvelope
from webos_common.identity import User

EXTENSION = r"^[a-z0-9]{1,20}$"  # CloudEvents 1.0 attribute naming rule (20 chars: the spec's SHOULD)


async def _read_stored(nats_url: str, entity: str, count: int) -> list[Msg]:
    """The stored events of `entity`, read back with plain nats-py (an ordered consumer)."""
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().subscribe(f"webos.events.*.{entity}.*", ordered_consumer=True)
        return [await sub.next_msg(timeout=10) for _ in range(count)]
    finally:
        await nc.close()


async def test_every_published_event_reads_with_the_cloudevents_sdk(nc, nats_url: str) -> None:
    import re

    entity = f"ce{uuid.uuid4().hex[:10]}"
    service = f"shop{uuid.uuid4().hex[:6]}"
    bus = EventBus(nc, service=service, settings=BusSettings(backoff=[0.05], max_deliver=2))
    try:
        plain = await bus.emit(f"{entity}:created", {"n": 1, "note": "50% off"})
        relayed = EventEnvelope(topic=f"{entity}:paid", payload={"total": 12.5}, source=service,
                                trace_id="a" * 32, span_id="b" * 16, user_id="u-1")
        request = context.request_id.set("req 100%")
        try:
            await bus.publish(relayed, user=User(id="u-1", username="ann", roles=["user"]), identity="signed.jwt.token")
        finally:
            context.request_id.reset(request)
        letter = DeadLetter(service=service, consumer=f"{service}--x", subject="s", reason="handler_failed",
                            error="boom", attempts=2, envelope=plain.model_dump(mode="json"))
        await replay_dead_letter(nc.jetstream(), letter)
    finally:
        await bus.close()

    seen = await _read_stored(nats_url, entity, 3)
    by_id: dict[str, Any] = {}
    for msg in seen:
        headers = dict(msg.headers or {})
        event = from_http_event(HTTPMessage(headers=headers, body=msg.data))  # the 2.x SDK
        legacy = from_http(headers, msg.data)  # and the classic API an older consumer has
        assert legacy["id"] == event.get_id() and legacy.data == event.get_data()
        assert event.get_specversion() == "1.0"
        assert event.get_datacontenttype() == "application/json"
        assert isinstance(event.get_time(), datetime) and event.get_time().tzinfo is not None
        for name in event.get_attributes():  # the SDK refuses ill-named extensions; and none is long
            assert re.match(EXTENSION, name), name
        publisher = msg.subject.split(".")[2]
        if publisher != "_replay":  # a replay is the platform re-delivering the original event
            assert event.get_source() == publisher
        by_id.setdefault(event.get_id(), []).append(event)

    created = by_id[plain.id][0]
    assert created.get_type() == f"{entity}:created"
    assert created.get_data() == {"n": 1, "note": "50% off"}
    assert created.get_time() == plain.timestamp.astimezone(UTC)
    assert len(by_id[plain.id]) == 2  # the original and its replay, same id, same data
    assert by_id[plain.id][1].get_data() == created.get_data()

    paid = by_id[relayed.id][0]
    extensions = paid.get_attributes()
    assert paid.get_type() == f"{entity}:paid" and paid.get_data() == {"total": 12.5}
    assert extensions["traceparent"] == f"00-{'a' * 32}-{'b' * 16}-01"
    assert extensions["authtype"] == "app_user" and extensions["authid"] == "u-1"
    assert extensions["webosidentity"] == "signed.jwt.token"
    assert extensions["requestid"] == "req 100%"
    assert '"username":"ann"' in extensions["webosuser"]


async def test_a_consumer_reads_the_binary_form_and_an_old_json_body_alike(nc) -> None:
    """Events stored before the CloudEvents wire form (the whole envelope as the body) still run."""
    from webos_common.bus.topics import event_subject
    from webos_common.bus.wire import MSG_ID

    entity = f"ce{uuid.uuid4().hex[:10]}"
    service = f"svc{uuid.uuid4().hex[:6]}"
    bus = EventBus(nc, service=service, settings=BusSettings(backoff=[0.05], max_deliver=2))
    seen: list[tuple[str, dict[str, Any]]] = []

    async def record(event: EventEnvelope) -> None:
        seen.append((event.id, event.payload))

    bus.subscribe(f"{entity}:moved", record, name="record")
    await bus.start()
    try:
        new = await bus.emit(f"{entity}:moved", {"to": "b"})
        old = EventEnvelope(topic=f"{entity}:moved", payload={"to": "c"}, source=service)
        await nc.jetstream().publish(event_subject(old.topic, service), old.to_json(), headers={MSG_ID: old.id})
        for _ in range(250):
            if len(seen) >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await bus.close()
    assert sorted(seen) == sorted([(new.id, {"to": "b"}), (old.id, {"to": "c"})])


def test_a_handler_takes_the_events_request_id_by_the_http_rules() -> None:
    """The bus decodes `ce-requestid` as every HTTP hop decodes `x-request-id` (one codec):
    a sane one is kept, anything else is dropped rather than logged and sent on."""
    from webos_common import context
    from webos_common.bus.wire import REQUEST_ID, handler_scope

    envelope = EventEnvelope(topic="x:y", source="svc", payload={})
    seen = []
    for sent in ("r-1", "req 100%", "x" * 129):
        with handler_scope(envelope, {REQUEST_ID: sent}):
            seen.append(context.request_id.get())
    assert seen == ["r-1", None, None]
