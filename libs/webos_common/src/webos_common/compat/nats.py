"""nats-py: a faster header parser (`Client._parse_header_lines`, private).

nats-py's parser checks every character of every header name with a Python
generator; every bus event carries up to thirteen headers (CloudEvents
attributes, trace, request id, user, signed identity), and their parsing was
the consumer's largest single cost. This does the same thing (same skips,
same decoding) with a compiled regex. Needed for `bench/bus.py`'s goal
(saturated >= 0.6x raw): see `bench/README.md`.
"""

from __future__ import annotations

import re

from loguru import logger
from nats.aio.client import Client

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
