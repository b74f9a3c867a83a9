"""uvicorn: its httptools protocol (`uvicorn.protocols.http.httptools_impl`, internal) handing request
bodies on uncopied and, for the gateway, whose small writes in one event-loop iteration leave in one
send; passed through uvicorn's public `http=` option.

Bodies (`BodyHttpProtocol`, every service and the gateway): uvicorn gathers
the pieces httptools parses out of each socket read into a `bytearray`
(`cycle.body += piece`) and hands the app `bytes(cycle.body)`: two copies of
every uploaded byte on top of the socket's and the parser's. Here a piece
that arrives while the app has taken everything before it is kept as the
parser's own `bytes`, and `bytes()` of a `bytes` is that same object, so the
app gets it uncopied; pieces that arrive before the app asks again are
joined, as before (uvicorn pauses reading past 64 KiB held). Needed for
`bench/storage.py`'s upload goals: see `bench/README.md`.

uvicorn writes a response's status line and headers when the app sends
`http.response.start` and its body on `http.response.body`: two `send`
system calls for every small answer (on loopback the sender's call also
runs the receiver's TCP path). The gateway's proxy sends both messages back
to back, so holding a small write until the next one, or at most until the
end of the loop iteration, makes one system call of the two without delaying
any byte past the iteration that produced it. Large writes (streamed bodies)
go out at once. Needed for `bench/gateway.py`'s goal: see `bench/README.md`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from loguru import logger
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from webos_common.compat import release_is

TESTED = "0.54"  # the uvicorn release whose httptools protocol this subclasses

COALESCE_MAX = 16 * 1024  # a response head, a small body or an event: held for the next write


class CoalescingTransport:
    """A transport whose small `write`s within one loop iteration go out joined with the next."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pending = self._pending
        if pending is not None:  # typically a body after its head: both in one send
            self._pending = None
            self._transport.write(pending + data)
        elif len(data) > COALESCE_MAX:
            self._transport.write(data)
        else:
            self._pending = bytes(data)
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            if not self._transport.is_closing():  # a lost connection drops it, as a direct write would
                self._transport.write(pending)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._pending or b"")

    def __getattr__(self, name: str) -> Any:  # everything else is the real transport's
        return getattr(self._transport, name)


class BodyHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol handing a request body's pieces to the app uncopied."""

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        # `cycle.body` is empty (uvicorn's fresh `bytearray`) whenever the app took the last piece
        cycle.body = cycle.body + body if cycle.body else body  # type: ignore[assignment]
        if len(cycle.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()


class CoalescingHttpProtocol(BodyHttpProtocol):
    """The body protocol on a `CoalescingTransport` (the gateway's `uvicorn.run(http=http_protocol())`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


def applies() -> bool:
    """The tested release, whose protocol still takes its transport in `connection_made` alone and
    gathers a body in `on_body`."""
    return release_is("uvicorn", TESTED) and {"connection_made", "on_body"} <= set(HttpToolsProtocol.__dict__)


def http_protocol(*, coalesce: bool = True) -> type[HttpToolsProtocol] | str:
    """What to pass as uvicorn's `http=`: the body protocol (coalescing writes too, for the gateway),
    or on another uvicorn release its own."""
    if applies():
        return CoalescingHttpProtocol if coalesce else BodyHttpProtocol
    logger.warning("uvicorn is not {}: its own httptools protocol is used (see webos_common.compat.uvicorn)", TESTED)
    return "httptools"
