"""GuardedSource: a source without ranges still serves them; a read-only one
refuses changes; one that cannot connect is unavailable with its reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from webos_common.files.afs import ByteStream, Capabilities
from webos_storage.adapters.guard import GuardedSource, NotSupported, SourceDown, SourceUnavailable
from webos_storage.adapters.local import LocalDataSource


class NoRanges(LocalDataSource):
    """A source that can only stream a file from its start."""

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities(), range=False)

    def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        assert offset == 0 and length is None, "the guard asks a range-less source for the whole file"
        return super().open_file(path)


class Refusing(LocalDataSource):
    async def connect(self) -> None:
        raise SourceDown("the server refused the login: 530 Login incorrect")


async def one(stream: ByteStream) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def chunks(data: bytes) -> ByteStream:
    yield data


async def test_range_is_cut_from_the_stream_when_the_source_cannot(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # several 1 MiB chunks
    source = GuardedSource(NoRanges("x", tmp_path))
    await source.connect()
    await source.write_file("f.bin", chunks(data))
    assert await one(source.open_file("f.bin", offset=1_500_000, length=70_000)) == data[1_500_000:1_570_000]
    assert await one(source.open_file("f.bin", offset=10)) == data[10:]
    assert await one(source.open_file("f.bin")) == data


async def test_read_only_source_refuses_every_change(tmp_path: Path) -> None:
    inner = LocalDataSource("ro", tmp_path)
    await inner.connect()
    await inner.write_file("keep.txt", chunks(b"kept"))
    source = GuardedSource(inner, read_only=True)
    assert source.capabilities().write is False and source.capabilities().read is True
    for change in (source.write_file("new.txt", chunks(b"x")), source.delete("keep.txt"),
                   source.move("keep.txt", "moved.txt"), source.mkdir("folder")):
        with pytest.raises(NotSupported) as refused:
            await change
        assert refused.value.status == 405 and refused.value.details["source"] == "ro"
    assert await one(source.open_file("keep.txt")) == b"kept"


async def test_a_source_that_cannot_connect_is_unavailable_with_its_reason(tmp_path: Path) -> None:
    source = GuardedSource(Refusing("ftp1", tmp_path), retry_seconds=3600)
    with pytest.raises(SourceUnavailable):
        await source.connect()
    assert source.status() == {"available": False,
                               "reason": "SourceDown: the server refused the login: 530 Login incorrect"}
    with pytest.raises(SourceUnavailable) as answer:
        await source.list_dir("")
    assert answer.value.status == 503 and answer.value.details == {"source": "ftp1", "reason": source.reason}
    assert "'ftp1'" in answer.value.message
