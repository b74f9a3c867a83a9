"""The server protocol of `python -m webos_gateway`: a response's head and
small body leave in one send, and nothing waits past the loop iteration."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from webos_common.compat.uvicorn import COALESCE_MAX, CoalescingHttpProtocol, CoalescingTransport
from webos_common.testing import serve_app


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0


async def test_writes_of_one_iteration_leave_in_one_send() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert real.sent == [] and transport.get_write_buffer_size() > 0
    transport.write(b"ok")
    assert real.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]

    transport.write(b"lone")  # nothing follows in this iteration: it leaves at its end
    assert real.sent[1:] == []
    await asyncio.sleep(0)
    assert real.sent[1:] == [b"lone"]

    big = b"x" * (COALESCE_MAX + 1)
    transport.write(big)  # a streamed chunk is not held
    assert real.sent[2:] == [big]

    transport.write(b"last words")
    transport.close()
    assert real.sent[3:] == [b"last words"] and real.closed
    await asyncio.sleep(0)
    assert len(real.sent) == 4


async def test_abort_drops_what_is_held() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"held")
    transport.abort()
    await asyncio.sleep(0)
    assert real.sent == [] and real.aborted


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-kind", scope["path"][1:].encode())]})
    if scope["path"] == "/slow":  # the head must not wait for a body that comes later
        await asyncio.sleep(1.0)
    await send({"type": "http.response.body", "body": b"done"})


async def test_heads_and_bodies_arrive_whole_and_heads_do_not_wait() -> None:
    async with serve_app(_app, http=CoalescingHttpProtocol, lifespan="off") as base:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(base.rpartition(":")[2]))
        try:
            for path in ("/small", "/small"):  # keep-alive: the second answer on the same connection
                writer.write(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"x-kind: small\r\n" in head
                assert await asyncio.wait_for(reader.readexactly(14), 5) == b"4\r\ndone\r\n0\r\n\r\n"
            started = time.monotonic()
            writer.write(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert b"x-kind: slow\r\n" in head
            assert time.monotonic() - started < 0.5  # the head left in its own iteration
            assert await asyncio.wait_for(reader.readexactly(14), 5) == b"4\r\ndone\r\n0\r\n\r\n"
        finally:
            writer.close()
            await writer.wait_closed()
