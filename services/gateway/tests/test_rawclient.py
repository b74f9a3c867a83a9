"""The pooled upstream client against hand-written HTTP peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from webos_gateway.rawclient import RawPool


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
