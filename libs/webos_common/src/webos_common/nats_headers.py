"""A faster NATS header parser, installed into nats-py when the bus loads.

nats-py's `Client._parse_header_lines` checks every character of every header
name with a Python generator; with the six headers every WebOS event carries
(msg id, source, traceparent, request id, user, user id) that cost about
50 µs per delivered message — as much as the rest of the consumer's work.
This does the same thing (same skips, same decoding) with a compiled regex.
"""

from __future__ import annotations

import re

from nats.aio.client import Client

_CRLF = b"\r\n"
# str.isspace() over ASCII: the regex whitespace class plus the four separators \x1c-\x1f
_SPACE = re.compile(rb"[\s\x1c-\x1f]")

original_parse_header_lines = Client._parse_header_lines


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


def install() -> None:
    """Replace nats-py's parser (idempotent)."""
    Client._parse_header_lines = staticmethod(parse_header_lines)  # type: ignore[method-assign]
