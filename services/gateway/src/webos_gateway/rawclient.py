"""A lean pooled HTTP/1.1 client for the proxy's hot path: asyncio
protocol + httptools parser, keep-alive connections per upstream, bodies
streamed both ways with backpressure (reading pauses past 256 KiB
buffered, writing waits for the socket to drain). Past its head, a body of
announced length is passed on as the socket's own reads: the parser would
copy every byte into new objects (a download's one copy in the gateway).

It does only what a reverse proxy needs, which is why it is several times
cheaper per request than a general client (aiohttp stays for WebSockets
and the OpenAPI fetches).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httptools

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
_SKIP_REQUEST = frozenset({b"content-length", b"expect", b"host"})


class UpstreamError(Exception):
    """The upstream broke the exchange (reset, bad HTTP, closed early)."""


class UpstreamConnectError(UpstreamError):
    """No connection could be opened: nothing was sent."""


class UpstreamTimeout(UpstreamError):
    pass


class _Stale(UpstreamError):
    """A pooled connection closed before answering: safe to retry once."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser: Any = None
        self.closed = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.head_done = False
        self.keep_alive = False
        self.done = False
        self.received = False
        self.head_only = False
        self.exc: Exception | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.reading_paused = False
        self.waiter: asyncio.Future[None] | None = None
        self.idle_since = 0.0
        self.drain: asyncio.Future[None] | None = None
        self.body_left = 0  # bytes still due of a body of known length (passed on unparsed)

    # -- asyncio protocol ----------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        left = self.body_left
        if left:  # the body's bytes as they came: the parser would copy each into a new object
            if len(data) > left:  # bytes after the answer: the connection is not reused
                self.keep_alive = False
                data = data[:left]
            self.body_left = left - len(data)
            self._take(data)
            if not self.body_left:
                self.done = True
                self._wake()
            return
        if self.parser is None:  # bytes while idle: the connection is unusable
            self._close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"bad HTTP from upstream: {exc}"))
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.head_done and not self.done and exc is None and self._until_eof():
            self.done = True  # a body without length or chunking ends with the connection
            self._wake()
        if self.parser is not None and not self.done:
            self._fail(UpstreamError("upstream closed the connection") if self.received
                       else _Stale("upstream closed the connection before answering"))
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)

    def pause_writing(self) -> None:
        if self.drain is None or self.drain.done():
            self.drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)

    def _until_eof(self) -> bool:
        names = {name for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    # -- parser callbacks ----------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # informational: wait for the real answer
            self.headers = []
            return
        self.status = status
        self.keep_alive = self.parser.should_keep_alive()
        self.head_done = True
        if self.head_only:
            self.done = True
        else:
            self.body_left = _known_length(self.headers, status)
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self.body_left:  # the part of the body that came with the head
            self.body_left -= len(body)
        self._take(body)

    def _take(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.head_done:
            self.done = True
            self._wake()

    # -- helpers -------------------------------------------------------------
    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        self.exc = exc
        self._wake()

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def reset(self, head_only: bool) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers, self.status, self.head_done, self.done, self.keep_alive = [], 0, False, False, False
        self.received, self.exc, self.head_only = False, None, head_only
        self.chunks.clear()
        self.buffered = self.body_left = 0

    async def wait(self, limit: float) -> None:
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        timer = loop.call_later(limit, self._expire, waiter)  # cheaper than asyncio.timeout per wait
        try:
            await waiter
        finally:
            timer.cancel()
            self.waiter = None

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            self._close()
            waiter.set_exception(UpstreamTimeout("upstream did not answer in time"))

    async def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            return
        self.transport.write(data)
        if self.drain is not None and not self.drain.done():
            await self.drain


def _known_length(headers: list[tuple[bytes, bytes]], status: int) -> int:
    """The announced length of a body that follows (0 when none does, or it is chunked)."""
    if status in (204, 304) or any(name == b"transfer-encoding" for name, _ in headers):
        return 0
    for name, value in headers:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


class Response:
    def __init__(self, pool: RawPool, key: tuple[str, int, bool], conn: _Connection, timeout: float) -> None:
        self.pool, self.key, self.conn, self.timeout = pool, key, conn, timeout
        self.status = conn.status
        self.headers = conn.headers
        self.content_length: int | None = None
        for name, value in conn.headers:
            if name == b"content-length" and value.isdigit():
                self.content_length = int(value)

    async def read(self) -> bytes:
        """The whole body (for small ones: no per-chunk async generator)."""
        conn = self.conn
        parts: list[bytes] = []
        while True:
            if conn.chunks:
                parts.extend(conn.chunks)
                conn.chunks.clear()
                conn.buffered = 0
                if conn.reading_paused and conn.transport is not None:
                    conn.reading_paused = False
                    conn.transport.resume_reading()
            if conn.done:
                return b"".join(parts)
            if conn.exc is not None:
                raise conn.exc
            await conn.wait(self.timeout)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        conn = self.conn
        while True:
            if conn.chunks:
                chunk = conn.chunks.popleft()
                conn.buffered -= len(chunk)
                if conn.reading_paused and conn.buffered < LOW_WATER and conn.transport is not None:
                    conn.reading_paused = False
                    conn.transport.resume_reading()
                yield chunk
            elif conn.done:
                return
            elif conn.exc is not None:
                raise conn.exc
            else:
                await conn.wait(self.timeout)

    def release(self) -> None:
        """Pool the connection only after a clean exchange: the whole answer arrived and was taken.
        One left unread (the client went away mid-relay, e.g. a frame reloaded) may have paused the
        socket's reading past HIGH_WATER; pooled, the next request's head would never be read and it
        would wait out the timeout though its upstream had answered. Anything else is closed."""
        conn = self.conn
        if conn.done and not conn.chunks and conn.keep_alive and not conn.closed and not conn.head_only:
            conn.parser = None
            self.pool.put_back(self.key, conn)
        else:
            conn._close()


class RawPool:
    """`head_timeout` bounds the wait for an answer's head once the request is sent, so an upstream
    that took a request and hangs is a prompt 504; `read_timeout` bounds each wait for a body's
    next bytes (a long download is never cut) and, after a streamed upload, the head: the upstream
    may be finishing a large file (an S3 multipart upload's completion) before it answers."""

    def __init__(self, *, connect_timeout: float = 5.0, head_timeout: float = 30.0, read_timeout: float = 300.0,
                 max_idle_per_upstream: int = 256, max_idle_age: float = 4.0) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle_age = max_idle_age  # below uvicorn's 5 s keep-alive: never race its close
        self.head_timeout = head_timeout
        self.read_timeout = read_timeout
        self.max_idle = max_idle_per_upstream
        self._idle: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._bases: dict[str, tuple[tuple[str, int, bool], bytes]] = {}
        self._ssl = ssl.create_default_context()

    async def request(self, method: str, base: str, target: str, headers: list[tuple[bytes, bytes]],
                      body: bytes | AsyncIterator[bytes] | None, *, content_length: int | None = None,
                      host: bytes | None = None) -> Response:
        """Send one request; `host` overrides the Host header (a proxy keeps the client's)."""
        key, upstream_host = self._parse(base)
        head = self._head(method, target, host or upstream_host, headers, body, content_length)
        for attempt in (0, 1):
            conn, reused = await self._acquire(key)
            conn.reset(head_only=method == "HEAD")
            try:
                if body is None or isinstance(body, bytes):
                    await conn.write(head + body if body else head)
                    deadline = time.monotonic() + self.head_timeout
                else:
                    await conn.write(head)
                    await self._stream(conn, body, chunked=content_length is None)
                    deadline = time.monotonic() + self.read_timeout
                while not conn.head_done:
                    if conn.exc is not None:
                        raise conn.exc
                    await conn.wait(deadline - time.monotonic())
            except _Stale:
                conn._close()
                if reused and attempt == 0 and not hasattr(body, "__aiter__"):
                    continue
                raise UpstreamError("upstream closed the connection before answering") from None
            except BaseException:
                conn._close()
                raise
            return Response(self, key, conn, self.read_timeout)
        raise UpstreamError("unreachable")

    async def _stream(self, conn: _Connection, body: AsyncIterator[bytes], *, chunked: bool) -> None:
        async for chunk in body:
            if conn.closed:
                return
            if chunked:
                await conn.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                await conn.write(chunk)
        if chunked:
            await conn.write(b"0\r\n\r\n")

    def _head(self, method: str, target: str, host: bytes, headers: list[tuple[bytes, bytes]],
              body: object, content_length: int | None) -> bytes:
        parts = [f"{method} {target} HTTP/1.1\r\nhost: ".encode("latin-1"), host, b"\r\n"]
        for name, value in headers:
            if name not in _SKIP_REQUEST:
                parts += (name, b": ", value, b"\r\n")
        if isinstance(body, bytes):
            parts.append(b"content-length: %d\r\n" % len(body))
        elif body is not None:
            parts.append(b"content-length: %d\r\n" % content_length if content_length is not None
                         else b"transfer-encoding: chunked\r\n")
        elif method in ("POST", "PUT", "PATCH"):
            parts.append(b"content-length: 0\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

    def _parse(self, base: str) -> tuple[tuple[str, int, bool], bytes]:
        found = self._bases.get(base)
        if found is None:
            url = urlsplit(base)
            tls = url.scheme == "https"
            port = url.port or (443 if tls else 80)
            found = ((url.hostname or "127.0.0.1", port, tls), url.netloc.encode("latin-1"))
            self._bases[base] = found
        return found

    async def _acquire(self, key: tuple[str, int, bool]) -> tuple[_Connection, bool]:
        idle = self._idle.get(key)
        if idle:
            fresh_after = time.monotonic() - self.max_idle_age
            while idle:
                conn = idle.pop()
                if not conn.closed and conn.idle_since >= fresh_after:
                    return conn, True
                conn._close()  # old idle connections may be closing on the server side
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    _Connection, key[0], key[1], ssl=self._ssl if key[2] else None)
        except (OSError, TimeoutError) as exc:
            raise UpstreamConnectError(f"cannot connect to {key[0]}:{key[1]}: {exc}") from exc
        return conn, False

    def put_back(self, key: tuple[str, int, bool], conn: _Connection) -> None:
        conn.idle_since = time.monotonic()
        idle = self._idle.setdefault(key, [])
        if len(idle) < self.max_idle:
            idle.append(conn)
        else:
            conn._close()

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn._close()
        self._idle.clear()
