"""The bus's own JetStream publisher against a real NATS server: what it sends
is what nats-py would have sent, and every way an ack can go wrong is an error."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.errors import ConnectionClosedError, MaxPayloadError
from nats.js.api import StreamConfig
from nats.js.errors import APIError, NoStreamResponseError

from webos_common.bus.publisher import AckPublisher, PublishRefused
from webos_common.bus.wire import header_block


@pytest.fixture
async def stream(nc: NATS) -> str:
    name = f"P{uuid.uuid4().hex[:8].upper()}"
    await nc.jetstream().add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"]))
    return name


async def test_a_message_is_stored_with_its_headers_and_a_duplicate_is_reported(nc: NATS, stream: str) -> None:
    publisher = AckPublisher(nc, timeout=2)
    subject = f"{stream.lower()}.a"
    headers = header_block({"Nats-Msg-Id": "m-1", "webos-user": '{"id":"u1"}', "x-note": "two\r\nlines"})
    assert await (await publisher.publish(subject, b'{"n":1}', headers)) is True
    assert await (await publisher.publish(subject, b'{"n":1}', headers)) is False  # same Nats-Msg-Id
    stored = await nc.jetstream().get_last_msg(stream, subject)
    assert stored.data == b'{"n":1}'
    assert stored.headers == {"Nats-Msg-Id": "m-1", "webos-user": '{"id":"u1"}', "x-note": "two  lines"}
    assert (await nc.jetstream().stream_info(stream)).state.messages == 1
    await publisher.close()


async def test_many_concurrent_publishes_each_get_their_own_ack(nc: NATS, stream: str) -> None:
    publisher = AckPublisher(nc, timeout=5)
    acks = await asyncio.gather(*[
        await publisher.publish(f"{stream.lower()}.b", str(i).encode(), header_block({"Nats-Msg-Id": f"b{i}"}))
        for i in range(500)])
    assert acks == [True] * 500
    assert (await nc.jetstream().stream_info(stream)).state.messages == 500
    assert publisher._futures == {}
    await publisher.close()


async def test_no_stream_for_the_subject_fails_at_once(nc: NATS) -> None:
    publisher = AckPublisher(nc, timeout=5)
    pending = await publisher.publish(f"nowhere.{uuid.uuid4().hex}", b"x", header_block({}))
    async with asyncio.timeout(2):  # not the 5 s ack timeout
        with pytest.raises(NoStreamResponseError):
            await pending
    await publisher.close()


async def test_a_stream_refusal_is_an_api_error(nc: NATS, stream: str) -> None:
    publisher = AckPublisher(nc, timeout=2)
    wrong = header_block({"Nats-Expected-Stream": "NOT_THIS_ONE"})
    with pytest.raises(APIError):
        await (await publisher.publish(f"{stream.lower()}.c", b"x", wrong))
    await publisher.close()


async def test_an_ack_that_never_comes_times_out(nc: NATS) -> None:
    publisher = AckPublisher(nc, timeout=0.3)
    silent = f"silent.{uuid.uuid4().hex}"

    async def ignore(msg: object) -> None:  # a responder that never answers
        return None

    sub = await nc.subscribe(silent, cb=ignore)
    pending = await publisher.publish(silent, b"x", header_block({}))
    with pytest.raises(TimeoutError, match="no acknowledgement"):
        await pending
    assert publisher._futures == {}
    await sub.unsubscribe()
    await publisher.close()


async def test_an_overdue_ack_is_a_refusal_only_when_the_subject_was_refused_after_the_send(nc: NATS) -> None:
    """The server's refusal reaches the connection's error callback (here: handed to it as nats-py
    does; tests/test_outbox.py and test_nats_auth.py meet the real one)."""
    publisher = AckPublisher(nc, timeout=0.3)
    silent = f"silent.{uuid.uuid4().hex}"

    async def ignore(msg: object) -> None:
        return None

    sub = await nc.subscribe(silent, cb=ignore)
    refusal = nats.errors.Error(f'nats: Permissions Violation for Publish to "{silent}"')
    first = await publisher.publish(silent, b"x", header_block({}))
    await nc._error_cb(refusal)  # while it waits: refused at once
    with pytest.raises(PublishRefused) as refused:
        await asyncio.wait_for(first, 0.1)
    assert refused.value.subject == silent and "Permissions Violation" in refused.value.reason
    # the permission granted since: silence now is an outage, not that old refusal
    with pytest.raises(TimeoutError, match="no acknowledgement"):
        await (await publisher.publish(silent, b"x", header_block({})))
    assert publisher._futures == {}
    await sub.unsubscribe()
    await publisher.close()


async def test_too_big_or_closed_is_refused_before_sending(nc: NATS, nats_url: str) -> None:
    publisher = AckPublisher(nc, timeout=1)
    with pytest.raises(MaxPayloadError):
        await publisher.publish("any.subject", b"x" * (nc.max_payload + 1), header_block({}))
    import nats

    other = await nats.connect(nats_url)
    closed = AckPublisher(other, timeout=1)
    await other.close()
    with pytest.raises(ConnectionClosedError):
        await closed.publish("any.subject", b"x", header_block({}))
    await publisher.close()


def test_the_emit_header_block_is_the_header_dict_on_the_wire() -> None:
    from webos_common import context
    from webos_common.bus.envelope import EventEnvelope
    from webos_common.bus.wire import envelope_header_block, envelope_headers
    from webos_common.identity import User

    user = User(id="u\r\n1", username="ann")
    envelope = EventEnvelope(topic="order:paid", source="shop", trace_id="a" * 32, span_id="b" * 16,
                             user_id=user.id)
    token = context.request_id.set("req 7\n")
    try:
        block = envelope_header_block(envelope, user, "tok")
        assert block == header_block(envelope_headers(envelope, user, "tok"))
    finally:
        context.request_id.reset(token)
    assert block.startswith(b"NATS/1.0\r\nNats-Msg-Id: ") and block.endswith(b"\r\n\r\n")
    # status line, msg id, 6 CloudEvents headers, 6 extensions, blank line: no value broke a line
    assert block.count(b"\r\n") == 15
    assert envelope_header_block(EventEnvelope(topic="a:b", source="s")).count(b"\r\n") == 9


async def test_the_delivery_count_is_read_off_the_reply_subject(nc: NATS, stream: str) -> None:
    from webos_common.bus.consumer import _delivered

    js = nc.jetstream()
    await js.publish(f"{stream.lower()}.d", b"x")
    sub = await js.pull_subscribe(f"{stream.lower()}.d", durable="d")
    for expected in (1, 2):
        (msg,) = await sub.fetch(1, timeout=2)
        assert _delivered(msg) == msg.metadata.num_delivered == expected
        await msg.nak()


async def test_a_consumer_stops_even_when_nats_py_swallows_its_cancel(nc: NATS, stream: str) -> None:
    """nats-py's publish path (used to ack and to ask for messages) eats CancelledError;
    the pull loop must still end, not pull forever (it hung a service's shutdown)."""
    from nats.js.api import AckPolicy, ConsumerConfig

    from webos_common.bus.pull import pull_messages

    js = nc.jetstream()
    await js.add_consumer(stream, ConsumerConfig(durable_name="c", ack_policy=AckPolicy.EXPLICIT))
    for n in range(3):
        await js.publish(f"{stream.lower()}.e", str(n).encode())
    got: list[bytes] = []

    async def consume() -> None:
        async for msg in pull_messages(nc, stream=stream, durable="c", batch=8, expires=30):
            got.append(msg.data)
            asyncio.current_task().cancel()  # type: ignore[union-attr]
            try:
                await msg.ack()  # where the cancel lands...
            except asyncio.CancelledError:
                pass  # ...and is lost, as in nats-py's flush

    task = asyncio.create_task(consume())
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done and task.cancelled() and got == [b"0"]
