"""The NATS log sink: JSON records on `webos.logs.<service>` with the context
ids, from the loop and from other threads, dropping (never blocking) when
the queue is full or NATS is gone."""

from __future__ import annotations

import asyncio
import json
import threading

import nats
import pytest
from loguru import logger

from webos_common import context
from webos_common.identity import User
from webos_common.observability.log_sink import NatsLogSink, install_log_sink, subject_for
from webos_common.observability.logging import configure_logging

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def _collect(nc, subject: str, count: int):
    got: list[dict] = []
    done = asyncio.Event()

    async def on_msg(msg) -> None:
        got.append(json.loads(msg.data))
        if len(got) >= count:
            done.set()

    sub = await nc.subscribe(subject, cb=on_msg)
    return got, done, sub


async def test_records_arrive_as_json_with_trace_and_user(nats_url) -> None:
    configure_logging("logtest", level="DEBUG")
    nc = await nats.connect(nats_url)
    try:
        got, done, sub = await _collect(nc, "webos.logs.logtest", 2)
        sink = await install_log_sink(nc, "logtest", level="INFO")
        user = User(id="alice", username="alice")
        with context.use({"trace_id": TRACE, "span_id": "00f067aa0ba902b7", "request_id": "r1",
                          "user": user.model_dump(mode="json")}):
            logger.info("hello {}", "world")
        logger.debug("below the sink's level")
        threading.Thread(target=lambda: logger.warning("from a thread")).start()
        await asyncio.wait_for(done.wait(), 5)
        await sink.close()
        await sub.unsubscribe()
    finally:
        await nc.close()
    first, second = got
    assert first["message"] == "hello world"
    assert first["level"] == "INFO"
    assert (first["service"], first["trace_id"], first["user_id"], first["request_id"]) == (
        "logtest", TRACE, "alice", "r1")
    assert second["message"] == "from a thread"
    assert second["level"] == "WARNING"
    assert sink.published == 2


async def test_full_queue_drops_instead_of_blocking(nats_url) -> None:
    nc = await nats.connect(nats_url)
    try:
        sink = NatsLogSink(nc, "dropper", max_queue=2)
        sink.start("INFO")
        sink._task.cancel()
        for i in range(5):
            logger.info("line {}", i)
        assert sink.dropped == 3
        await sink.close(grace=0)
        logger.info("after close")  # the sink is gone from loguru
        assert sink.dropped == 3
    finally:
        await nc.close()


async def test_records_are_dropped_while_nats_is_disconnected(nats_url) -> None:
    nc = await nats.connect(nats_url)
    sink = await install_log_sink(nc, "gone")
    await nc.close()
    logger.info("nobody listens")
    await asyncio.wait_for(sink._idle.wait(), 5)  # the publisher took it from the queue
    await sink.close()
    assert sink.dropped >= 1
    assert sink.published == 0


def test_subject_is_one_token_per_service() -> None:
    assert subject_for("shell-ui") == "webos.logs.shell-ui"
    assert subject_for("a.b *>") == "webos.logs.a_b___"


def test_max_queue_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_queue"):
        NatsLogSink(None, "x", max_queue=0)  # type: ignore[arg-type]


async def test_a_service_app_publishes_its_logs_once_but_not_access_lines(nats_url) -> None:
    from fastapi import APIRouter
    from loguru import logger

    from webos_common.config import WebOSSettings
    from webos_common.http.service import create_service_app
    from webos_common.testing import lifespan_client

    router = APIRouter()

    @router.get("/say/{word}")
    async def say(word: str) -> dict[str, str]:
        logger.warning("said {}", word)
        return {}

    app = create_service_app("hooked", settings=WebOSSettings(env="test", nats_url=nats_url), use_mongo=False,
                             routers=[router])
    nc = await nats.connect(nats_url)
    records: list[dict] = []
    second: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def on_msg(msg) -> None:
        records.append(json.loads(msg.data))
        if records[-1]["message"] == "said second" and not second.done():
            second.set_result(None)

    try:
        sub = await nc.subscribe("webos.logs.hooked", cb=on_msg)
        async with lifespan_client(app) as client:
            await client.get("/say/first", headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
            await client.get("/say/second")
            await asyncio.wait_for(second, 5)  # the sink keeps order: the first access line would be here
        await sub.unsubscribe()
    finally:
        await nc.close()
    messages = [r["message"] for r in records]
    assert messages.count("said first") == 1 and not any(" -> " in m for m in messages), messages
    record = next(r for r in records if r["message"] == "said first")
    assert record["service"] == "hooked" and record["trace_id"] == TRACE
