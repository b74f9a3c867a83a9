"""What the remote adapters (FTP, SFTP, SMB, WebDAV, Drive) share, and the
body grouping and write-behind that local disk uses too.

Writes go to `<root>/.webos-tmp/<random>` and are renamed into place at
the end, so nothing is visible at the path until every byte arrived; the
reserved top-level names are never listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import posixpath
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from webos_common.files.afs import (
    RESERVED_PREFIXES,
    ByteStream,
    FileExists,
    FileMetadata,
    FileMissing,
    PathRejected,
    basename,
)

CHUNK = 1024 * 1024
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TMP = ".webos-tmp"


async def batches(chunks: ByteStream, size: int = CHUNK) -> AsyncIterator[list[bytes]]:
    """The body's pieces (a socket read each, ~64 KiB) grouped until they hold
    `size` bytes, the last group possibly shorter and never empty. Grouping, not
    joining: a writer that takes a list (`writelines`) sends them without a copy."""
    group: list[bytes] = []
    held = 0
    async for chunk in chunks:
        if chunk:
            group.append(chunk)
            held += len(chunk)
        if held >= size:
            yield group
            group, held = [], 0
    if group:
        yield group


async def write_behind(chunks: ByteStream, write: Callable[[list[bytes]], object], *, size: int = CHUNK) -> None:
    """`write` (blocking) each group of the body in a worker thread while the next group is
    received and hashed: the disk or the server takes one MiB while the HTTP side brings the
    next, at most one group of `size` bytes in flight (memory stays bounded)."""
    writing: asyncio.Future[object] | None = None
    try:
        async for group in batches(chunks, size):
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(asyncio.to_thread(write, group))
    finally:
        if writing is not None:
            await writing


def remote_path(root: str, path: str) -> str:
    """The server-side path of `path` (a `safe_path` result) under `root`."""
    return posixpath.join(root, path) if path else root or "."


def tmp_path(root: str) -> str:
    return remote_path(root, f"{TMP}/{uuid.uuid4().hex}")


def hidden(parent: str, name: str) -> bool:
    return name in (".", "..") or (not parent and name in RESERVED_PREFIXES)


def guess_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def file_meta(path: str, *, size: int, modified: datetime | None, etag: str | None = None) -> FileMetadata:
    stamp = (modified - EPOCH) // timedelta(microseconds=1) if modified else 0
    return FileMetadata(path=path, name=basename(path), is_dir=False, size=size, modified=modified,
                        etag=etag or f'"{size:x}-{stamp:x}"', content_type=guess_type(path))


def dir_meta(path: str, *, modified: datetime | None = None) -> FileMetadata:
    return FileMetadata(path=path, name=basename(path), is_dir=True, modified=modified)


def sort_entries(entries: list[FileMetadata]) -> list[FileMetadata]:
    return sorted(entries, key=lambda m: (not m.is_dir, m.name))


def remote_parent(full: str) -> str:
    return posixpath.dirname(full) or "."


def refuse_root(path: str, doing: str = "write") -> None:
    """A source's root is never written as a file, nor deleted."""
    if not path:
        raise PathRejected(f"Cannot {doing} the source's root", details={"field": "path"})


def folder_in_the_way(path: str) -> FileExists:
    return FileExists(f"A folder exists at {path}", details={"path": path})


async def refuse_folder_at(path: str, stat: Callable[[str], Awaitable[FileMetadata]]) -> None:
    """A file may be written at `path`: not the root, and no folder is there (by `stat`)."""
    refuse_root(path)
    with contextlib.suppress(FileMissing):
        if (await stat(path)).is_dir:
            raise folder_in_the_way(path)


async def window(chunks: AsyncIterator[bytes], skip: int, length: int | None) -> AsyncIterator[bytes]:
    """The bytes of `chunks` after the first `skip`, and at most `length` of them (a source, or a
    server, that cannot start a read at an offset)."""
    left = length
    async for chunk in chunks:
        if skip:
            cut = min(skip, len(chunk))
            chunk, skip = chunk[cut:], skip - cut
        if left is not None:
            chunk, left = chunk[:left], left - min(left, len(chunk))
        if chunk:
            yield chunk
        if left == 0:
            return


async def read_span(read: Callable[[int], Awaitable[bytes]], length: int | None) -> AsyncIterator[bytes]:
    """Up to `length` bytes (to the end with None) from an open file's `read`, a chunk at a time."""
    left = length
    while left is None or left > 0:
        chunk = await read(CHUNK if left is None else min(CHUNK, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk
