"""nats-py: a faster header parser (`Client._parse_header_lines`, private), and a ready
`HPUB` sent through the client's private send path (`send_hpub`), and a second listener on
the client's error callback (`listen_errors`).

nats-py's parser checks every character of every header name with a Python
generator; every bus event carries up to thirteen headers (CloudEvents
attributes, trace, request id, user, signed identity), and their parsing was
the consumer's largest single cost. This does the same thing (same skips,
same decoding) with a compiled regex.

`Client.publish` checks every header name with a regex and re-encodes every
value; the bus wrote its header block itself (`bus.wire.envelope_header_block`),
so `send_hpub` hands the ready command to the client's send buffer with the
checks `publish` makes. Both are needed for `bench/bus.py`'s goal (saturated
>= 0.6x raw): see `bench/README.md`. On another nats-py release `send_hpub`
goes through `Client.publish` (the block parsed back into a dict).

nats-py takes one `error_cb`, given to `connect` by whoever opened the
connection; a server's `-ERR 'Permissions Violation for Publish to "<subject>"'`
reaches only that callback (the publish itself just never gets an answer).
`listen_errors` chains a listener after it (`Client._error_cb`, private), so the
bus's publisher learns which of its publishes the server refused.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from loguru import logger
from nats.aio.client import Client
from nats.errors import ConnectionClosedError, ConnectionDrainingError, MaxPayloadError, OutboundBufferLimitError

from webos_common.compat import release_is

TESTED = "2.16"  # nats-py release whose `_parse_header_lines` this replaces
_CRLF = b"\r\n"
# str.isspace() over ASCII: the regex whitespace class plus the four separators \x1c-\x1f
_SPACE = re.compile(rb"[\s\x1c-\x1f]")

original_parse_header_lines = Client.__dict__.get("_parse_header_lines")


def parse_header_lines(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in raw.split(_CRLF):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name = name.strip()
        if not name.isascii() or _SPACE.search(name):
            continue
        out[name.decode("ascii")] = value.strip().decode("utf-8", "replace")
    return out


def applies() -> bool:
    """The tested release, whose private parser is a static method of that name."""
    return release_is("nats-py", TESTED) and isinstance(original_parse_header_lines, staticmethod)


def install() -> None:
    """Replace nats-py's parser (idempotent); on another release, keep nats-py's own and say so."""
    if not applies():
        logger.warning("nats-py is not {}: its own header parser is kept (see webos_common.compat.nats)", TESTED)
        return
    Client._parse_header_lines = staticmethod(parse_header_lines)  # type: ignore[method-assign]


PRIVATE = ("_send_command", "_flush_pending", "_flush_queue", "_max_payload", "_pending_data_size",
           "_max_pending_size", "_error_cb")  # what `send_hpub` and `listen_errors` use of a connected client


def listen_errors(nc: Client, listener: Callable[[Exception], Awaitable[None]]) -> None:
    """Call `listener` with every error the client reports, after the connection's own `error_cb`."""
    first = nc._error_cb

    async def both(exc: Exception) -> None:
        try:
            await first(exc)
        finally:
            await listener(exc)

    nc._error_cb = both


async def send_hpub(nc: Client, subject: str, reply: bytes, headers: bytes, payload: bytes) -> None:
    """Send `payload` with a complete header block (`NATS/1.0\\r\\n…\\r\\n\\r\\n`), as `publish` would."""
    if nc.is_closed:
        raise ConnectionClosedError
    if nc.is_draining_pubs:
        raise ConnectionDrainingError
    size = len(headers) + len(payload)
    if size > nc.max_payload:
        raise MaxPayloadError
    if not _fast:
        lines = headers.split(_CRLF, 1)[1] if _CRLF in headers else b""
        await nc.publish(subject, payload, reply=reply.decode(), headers=parse_header_lines(lines))
        return
    if not nc.is_connected and (nc._max_pending_size <= 0
                                or size + nc._pending_data_size > nc._max_pending_size):
        raise OutboundBufferLimitError
    command = b"HPUB %b %b %d %d\r\n%b%b\r\n" % (subject.encode(), reply, len(headers), size, headers, payload)
    nc.stats["out_msgs"] += 1
    nc.stats["out_bytes"] += len(payload)
    await nc._send_command(command)
    if nc._flush_queue is not None and nc._flush_queue.empty():
        await nc._flush_pending()


_fast = applies()
