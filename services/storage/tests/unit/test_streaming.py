"""How upload bodies are grouped, hashed and written: groups keep every byte in order,
the SHA-256 hashed beside the event loop is the whole body's, the quota still stops an
upload, an SMB write the server takes in parts is completed, and the write-behind to
disk keeps every byte in order with one group in flight."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import pytest

from webos_common.http.errors import InsufficientStorage
from webos_storage.adapters import local
from webos_storage.adapters.remote import CHUNK, batches, write_behind
from webos_storage.adapters.smb import _write_all
from webos_storage.service import HASH_GROUP, HashingStream


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize("length", [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK + 12345])
async def test_batches_keep_every_byte_in_groups_of_at_least_a_chunk(length: int) -> None:
    data = os.urandom(length)
    groups = [group async for group in batches(pieces(data, 65536))]
    assert b"".join(b"".join(g) for g in groups) == data
    assert all(sum(map(len, g)) >= CHUNK for g in groups[:-1])
    assert all(groups)  # never an empty group (an empty body gives none)


async def test_the_digest_hashed_in_a_thread_is_the_whole_bodys() -> None:
    data = os.urandom(2 * HASH_GROUP + CHUNK + 777)  # two groups in the thread, the rest after them
    hashed = HashingStream(pieces(data, 70000))
    passed = b"".join([chunk async for chunk in hashed])
    assert passed == data and hashed.size == len(data)
    assert hashed.digest.hexdigest() == hashlib.sha256(data).hexdigest()


async def test_the_quota_stops_the_stream_past_the_room() -> None:
    hashed = HashingStream(pieces(os.urandom(3 * CHUNK), 65536), room=CHUNK)
    taken = 0
    with pytest.raises(InsufficientStorage):
        async for chunk in hashed:
            taken += len(chunk)
    assert taken <= CHUNK


class Stingy:
    """An unbuffered SMB file that takes at most `most` bytes a call (few credits)."""

    def __init__(self, most: int) -> None:
        self.most, self.data = most, bytearray()

    def write(self, b: bytes | memoryview) -> int:
        taken = bytes(b[:self.most])
        self.data += taken
        return len(taken)


def test_a_short_smb_write_is_completed() -> None:
    data = os.urandom(CHUNK)
    handle = Stingy(100_000)
    _write_all(handle, data)
    assert bytes(handle.data) == data


@pytest.mark.parametrize("piece", [1000, 65536, 300_000])  # 1000: more pieces a MiB than one writev takes
async def test_the_write_behind_to_disk_keeps_every_byte_in_order(tmp_path, piece: int) -> None:
    data = os.urandom(3 * CHUNK + 4321)
    path = tmp_path / "out.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    in_flight, most = 0, 0

    def write(group: list[bytes]) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        local._write_all(fd, group)
        in_flight -= 1

    try:
        await write_behind(pieces(data, piece), write)
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    assert most == 1
