"""Multipart uploads, streamed part by part.

Starlette's form parser spools every file part to a temporary file before
the route sees it, so a multipart upload was written twice. Here the body
drives python-multipart's push parser as it arrives and each file part's
bytes are handed on as they are parsed: the caller stores a part (hashing
it on the way) before the next part is read. Memory holds at most one
socket read's worth of parsed data.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from webos_common.http.errors import BadRequest

MAX_PARTS = 200  # file parts plus fields in one form
MAX_FIELD_BYTES = 64 * 1024  # a non-file field is read and dropped, but not without end


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    headers: dict[bytes, bytes] = field(default_factory=dict)


def _bad(message: str) -> BadRequest:
    return BadRequest(message, details={"field": "file"})


class MultipartStream:
    """`parts()` yields each part with an async iterator of its bytes; that iterator must be
    read (or dropped) before the next part is asked for, as the body is read only once."""

    def __init__(self, content_type: str | None, body: AsyncIterator[bytes]) -> None:
        kind, options = parse_options_header(content_type or "")
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise _bad("Expected a multipart/form-data body with a boundary")
        self.body = body
        self.events: deque[tuple[str, Any]] = deque()
        self.ended = False
        self._field, self._value = b"", b""
        self._headers: dict[bytes, bytes] = {}
        self.parser = MultipartParser(boundary, callbacks={
            "on_part_begin": self._begin, "on_header_field": self._on_field, "on_header_value": self._on_value,
            "on_header_end": self._header_end, "on_headers_finished": self._headers_done,
            "on_part_data": self._data, "on_part_end": self._end})

    # parser callbacks: they only record what was parsed
    def _begin(self) -> None:
        self._headers = {}

    def _on_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _on_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_done(self) -> None:
        self.events.append(("part", self._headers))

    def _data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self.events.append(("data", data[start:end]))

    def _end(self) -> None:
        self.events.append(("end", None))

    async def _next(self) -> tuple[str, Any] | None:
        while not self.events:
            if self.ended:
                return None
            chunk = await anext(self.body, None)
            try:
                if chunk is None:
                    self.ended = True
                    self.parser.finalize()
                else:
                    self.parser.write(chunk)
            except MultipartParseError as exc:
                raise _bad(f"Malformed multipart body: {exc}") from None
        return self.events.popleft()

    async def _bytes(self, limit: float = float("inf")) -> AsyncIterator[bytes]:
        taken = 0
        while (event := await self._next()) is not None:
            kind, value = event
            if kind == "end":
                return
            taken += len(value)
            if taken > limit:
                raise _bad(f"A form field is over {MAX_FIELD_BYTES} bytes")
            yield value
        raise _bad("The multipart body ended inside a part")

    async def parts(self) -> AsyncIterator[tuple[Part, AsyncIterator[bytes]]]:
        count = 0
        while (event := await self._next()) is not None:
            if event[0] != "part":
                continue  # the preamble's leftovers: nothing to store
            count += 1
            if count > MAX_PARTS:
                raise _bad(f"More than {MAX_PARTS} parts in the form")
            part = _describe(event[1])
            data = self._bytes() if part.filename is not None else self._bytes(MAX_FIELD_BYTES)
            yield part, data
            async for _ in data:  # whatever the caller left of this part
                pass


def _describe(headers: dict[bytes, bytes]) -> Part:
    _, options = parse_options_header(headers.get(b"content-disposition", b""))
    filename = options.get(b"filename")
    ctype = headers.get(b"content-type")
    return Part(name=options.get(b"name", b"").decode("utf-8", "replace"),
                filename=None if filename is None else filename.decode("utf-8", "replace"),
                content_type=ctype.decode("latin-1") if ctype else None, headers=headers)
