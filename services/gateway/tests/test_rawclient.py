"""The pooled upstream client against hand-written HTTP peers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from webos_common.testing import serve_app
from webos_common.testing.bus import eventually
from webos_gateway.rawclient import HIGH_WATER, RawPool


async def _server(answer: bytes, *, close: bool) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                writer.write(answer)
                await writer.drain()
                if close:
                    break
        except asyncio.IncompleteReadError:
            pass  # the client closed its kept-alive connection
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_body_delimited_by_connection_close() -> None:
    answer = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nall of it"
    async for base in _server(answer, close=True):
        pool = RawPool()
        resp = await pool.request("GET", base, "/x", [], None)
        assert resp.status == 200
        assert await resp.read() == b"all of it"
        resp.release()
        assert pool._idle.get(("127.0.0.1", int(base.rsplit(":", 1)[1]), False), []) == []


async def test_keep_alive_connection_is_reused_and_streams_chunks() -> None:
    answer = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    async for base in _server(answer, close=False):
        pool = RawPool()
        first = await pool.request("POST", base, "/x", [(b"x-a", b"1")], b"payload")
        assert [c async for c in first.iter_chunks()] == [b"abc", b"de"]
        conn = first.conn
        first.release()
        second = await pool.request("GET", base, "/y", [], None)
        assert second.conn is conn  # the same keep-alive connection
        assert await second.read() == b"abcde"
        second.release()


async def _pieces_server(pieces: list[bytes]) -> AsyncIterator[str]:
    """A peer answering each request with `pieces`, written one at a time (separate reads)."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.02)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_a_body_of_known_length_arrives_whole_over_many_reads_on_a_kept_connection() -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body)
    pieces = [head + body[:1000], body[1000:300_000], body[300_000:300_001], body[300_001:]]
    async for base in _pieces_server(pieces):
        pool = RawPool()
        conns = []
        for _ in range(3):  # the parser was left mid-body each time: the next answer parses all the same
            resp = await pool.request("GET", base, "/x", [], None)
            assert resp.status == 200 and resp.content_length == len(body)
            assert b"".join([c async for c in resp.iter_chunks()]) == body
            conns.append(resp.conn)
            resp.release()
        assert conns[0] is conns[1] is conns[2]
        pool.close()


async def test_bytes_after_a_body_of_known_length_are_not_passed_on_and_end_the_connection() -> None:
    pieces = [b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nab", b"cdefEXTRA"]
    async for base in _pieces_server(pieces):
        pool = RawPool()
        resp = await pool.request("GET", base, "/x", [], None)
        assert await resp.read() == b"abcdef"
        conn = resp.conn
        resp.release()
        assert conn.closed
        pool.close()


def test_past_the_head_the_body_is_the_socket_reads_themselves() -> None:
    from webos_gateway.rawclient import _Connection

    conn = _Connection()
    conn.reset(head_only=False)
    conn.data_received(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
    read = b"defgh"
    conn.data_received(read)
    assert conn.chunks[-1] is read and not conn.done  # no copy by the parser
    conn.data_received(b"ij")
    assert conn.done and b"".join(conn.chunks) == b"abcdefghij"


class _Upstream:
    """A real upstream's ASGI app (served by uvicorn): `/big` answers HIGH_WATER + 1 bytes, so the
    whole body is in the client's buffer exactly when its reading pauses; `/hold` answers once `hold`
    is set; anything else, with its own path."""

    def __init__(self) -> None:
        self.hold = asyncio.Event()
        self.seen: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        self.seen.append(path)
        if path == "/hold":
            await self.hold.wait()
        body = b"b" * (HIGH_WATER + 1) if path == "/big" else f"answer to {path}".encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


async def test_an_answer_left_unread_closes_its_connection_and_the_next_request_gets_its_own() -> None:
    # The relay's path when its client went away (a frame reloaded): the upstream's whole answer is in
    # the connection's buffer, unrelayed, with reading paused, when the Response is released. Pooled
    # so, the next request's head was never read (UpstreamTimeout though the upstream had answered).
    upstream = _Upstream()
    async with serve_app(upstream) as base:
        pool = RawPool(read_timeout=10.0)
        big = await pool.request("GET", base, "/big", [], None)
        await eventually(lambda: big.conn.done)
        big.release()
        assert big.conn.closed
        small = await pool.request("GET", base, "/small", [], None)
        assert small.conn is not big.conn
        assert await small.read() == b"answer to /small"
        small.release()
        pool.close()


async def test_a_request_cancelled_before_its_answer_does_not_leave_that_answer_to_the_next() -> None:
    upstream = _Upstream()
    async with serve_app(upstream) as base:
        pool = RawPool(read_timeout=10.0)
        warm = await pool.request("GET", base, "/warm", [], None)
        assert await warm.read() == b"answer to /warm"
        warm.release()  # kept alive: the held request reuses it
        held = asyncio.create_task(pool.request("GET", base, "/hold", [], None))
        await eventually(lambda: "/hold" in upstream.seen)
        held.cancel()  # the client went away mid-request
        with contextlib.suppress(asyncio.CancelledError):
            await held
        upstream.hold.set()  # the held answer now comes, on the connection the cancelled request had
        for path in ("/next", "/after"):
            resp = await pool.request("GET", base, path, [], None)
            assert await resp.read() == f"answer to {path}".encode()
            resp.release()
        pool.close()
