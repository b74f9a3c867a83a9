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
