"""`webos_common.clients.storage` against the real service on a real port."""

from __future__ import annotations

import asyncio
import hashlib

import nats
import pytest

from webos_common import context
from webos_common.bus.topics import topic_filter
from webos_common.bus.wire import envelope_of
from webos_common.clients.storage import StorageClient
from webos_common.http.errors import BadRequest, Forbidden, NotFound


async def test_client_lists_streams_puts_and_raises(storage_app) -> None:
    async with storage_app("s3", served=True) as h:
        base = h.base_url
        token = h.issuer.token("alice", permissions=("reports.*",))
        async with StorageClient(base, token=token) as storage:
            info = await storage.put("fs://reports/2023.txt", b"annual report", content_type="text/plain")
            assert info.urn == "fs://main/reports/2023.txt"
            assert info.sha256 == hashlib.sha256(b"annual report").hexdigest()

            async def chunks():
                for i in range(3):
                    yield bytes([i]) * 1000

            await storage.put("fs://reports/streamed.bin", chunks())
            page = await storage.list_dir("fs://reports/")
            assert [i.name for i in page.items] == ["2023.txt", "streamed.bin"] and page.total == 2
            async with storage.open("fs://reports/2023.txt") as stream:
                assert stream.size == 13 and stream.content_type.startswith("text/plain")
                assert b"".join([chunk async for chunk in stream]) == b"annual report"
            async with storage.open("fs://reports/2023.txt", offset=7, length=6) as stream:
                assert await stream.read() == b"report"
            expected = b"".join(bytes([i]) * 1000 for i in range(3))
            assert await storage.read_bytes("fs://reports/streamed.bin") == expected
            moved = await storage.move("fs://reports/2023.txt", "fs://local/home/alice/2023.txt")
            assert moved["job"]["state"] == "succeeded"
            assert await storage.exists("fs://local/home/alice/2023.txt")
            with pytest.raises(NotFound) as missing:
                await storage.stat("fs://nosuch/x")
            assert "nosuch" in missing.value.message
            with pytest.raises(NotFound):
                async with storage.open("fs://reports/2023.txt"):
                    pass
            with pytest.raises(BadRequest):
                await storage.list_dir("fs://main/../x")
        async with StorageClient(base, token=h.issuer.token("bob")) as bob:
            with pytest.raises(Forbidden):
                await bob.list_dir("fs://reports/")
            with pytest.raises(NotFound):
                await bob.read_bytes("fs://local/home/alice/2023.txt")


async def test_client_forwards_the_trace(storage_app, nats_url) -> None:
    nc = await nats.connect(nats_url)
    envelopes: list[dict] = []

    async def on_event(msg) -> None:
        envelopes.append(envelope_of(msg.headers, msg.data).model_dump(mode="json"))

    await nc.subscribe(topic_filter("file:created"), cb=on_event)
    trace = context.new_trace_id()
    try:
        async with storage_app(served=True) as h:
            async with StorageClient(h.base_url, token=h.issuer.token("alice")) as storage:
                with context.use({"trace_id": trace, "span_id": context.new_span_id(), "request_id": "r-1"}):
                    await storage.put("fs://main/traced.txt", b"t")
            await nc.flush()
            for _ in range(100):
                if envelopes:
                    break
                await asyncio.sleep(0.02)
    finally:
        await nc.close()
    assert envelopes and envelopes[0]["trace_id"] == trace and envelopes[0]["user_id"] == "alice"
