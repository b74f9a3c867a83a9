"""Multipart uploads are parsed as they stream: each file part's bytes in order, fields
skipped, and a malformed or cut-off body a 400 naming the field."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest

from webos_common.http.errors import BadRequest
from webos_storage.multipart import MultipartStream


def form(files: list, data: dict | None = None) -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://x/", files=files, data=data)
    return request.headers["content-type"], request.read()


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def collect(ctype: str, body: bytes, size: int) -> list[tuple[str | None, str | None, bytes]]:
    out = []
    async for part, chunks in MultipartStream(ctype, pieces(body, size)).parts():
        if part.filename is not None:
            out.append((part.filename, part.content_type, b"".join([c async for c in chunks])))
    return out


@pytest.mark.parametrize("size", [1, 7, 65536, 10_000_000])
async def test_each_file_part_streams_its_bytes_in_order(size: int) -> None:
    big = os.urandom(3_000_000 if size >= 65536 else 3000)
    ctype, body = form([("file", ("one.txt", b"first", "text/plain")), ("file", ("two.bin", big, None))],
                       data={"note": "ignored"})
    parts = await collect(ctype, body, size)
    assert parts == [("one.txt", "text/plain", b"first"), ("two.bin", "application/octet-stream", big)]


async def test_a_part_the_caller_does_not_read_is_skipped() -> None:
    ctype, body = form([("file", ("a.txt", b"a" * 100_000, None)), ("file", ("b.txt", b"b", None))])
    names = [part.filename async for part, _ in MultipartStream(ctype, pieces(body, 4096)).parts()]
    assert names == ["a.txt", "b.txt"]


async def test_a_body_cut_inside_a_part_is_a_400() -> None:
    ctype, body = form([("file", ("a.bin", os.urandom(200_000), None))])
    with pytest.raises(BadRequest) as caught:
        await collect(ctype, body[:150_000], 65536)
    assert caught.value.details == {"field": "file"}


@pytest.mark.parametrize("ctype", [None, "application/json", "multipart/form-data"])
async def test_no_multipart_boundary_is_a_400(ctype: str | None) -> None:
    with pytest.raises(BadRequest):
        MultipartStream(ctype, pieces(b"", 1))


async def test_a_malformed_body_is_a_400() -> None:
    with pytest.raises(BadRequest):
        await collect("multipart/form-data; boundary=abc", b"--abc\r\nno colon here\r\n\r\nxx", 1000)
