"""`LocalDataSource`: a folder on disk, confined to its root.

Every path is resolved with `realpath` and must stay under the root's real
path, so neither `..` nor a symlink pointing out leads anywhere else. Writes
go to `<root>/.webos-tmp/` first and are renamed into place at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiofiles
import aiofiles.os

from webos_common.files.afs import (
    ByteStream,
    Capabilities,
    FileExists,
    FileMetadata,
    FileMissing,
    PathRejected,
    basename,
)
from webos_storage.adapters.remote import read_span, write_behind

CHUNK = 1024 * 1024
TMP = ".webos-tmp"
IOV_MAX = 64  # pieces per writev; more (a body of tiny reads) are joined first


def _write_all(fd: int, group: list[bytes]) -> None:
    """Write a group of the body at the file's end, as one `writev` where it can."""
    if len(group) > IOV_MAX:
        group = [b"".join(group)]
    left = sum(map(len, group))
    while left:
        done = os.writev(fd, group)
        left -= done
        if left:  # a short write (a full disk answers ENOSPC on the next call): go on after it
            group = [b"".join(group)[done:]]


class LocalDataSource:
    def __init__(self, source_id: str, root: str | Path) -> None:
        self.id = source_id
        self.root = Path(root)

    def capabilities(self) -> Capabilities:
        return Capabilities(kind="local")

    async def connect(self) -> None:
        await asyncio.to_thread((self.root / TMP).mkdir, parents=True, exist_ok=True)
        self._real_root = Path(await asyncio.to_thread(os.path.realpath, self.root))

    async def disconnect(self) -> None:
        return None

    async def sweep_stale_uploads(self, older_than: float) -> int:
        """Remove temp files of uploads nobody has written for `older_than` seconds (a crash's)."""
        def sweep() -> int:
            cutoff, removed = time.time() - older_than, 0
            for path in (self.root / TMP).iterdir():
                with contextlib.suppress(FileNotFoundError):
                    if path.is_file() and path.stat().st_mtime <= cutoff:
                        path.unlink()
                        removed += 1
            return removed

        return await asyncio.to_thread(sweep)

    def _resolve(self, path: str) -> Path:
        """The real path for `path`, refusing anything that lands outside the root."""
        candidate = self.root / path if path else self.root
        real = Path(os.path.realpath(candidate))
        if real != self._real_root and self._real_root not in real.parents:
            raise PathRejected("Rejected path: leaves the source", details={"field": "path", "reason": "symlink"})
        return real

    def _meta(self, path: str, real: Path, st: os.stat_result) -> FileMetadata:
        is_dir = real.is_dir()
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return FileMetadata(
            path=path, name=basename(path), is_dir=is_dir, size=0 if is_dir else st.st_size, modified=modified,
            etag=None if is_dir else f'"{st.st_size:x}-{st.st_mtime_ns:x}"',
            content_type=None if is_dir else mimetypes.guess_type(path)[0] or "application/octet-stream",
        )

    async def get_stat(self, path: str) -> FileMetadata:
        real = self._resolve(path)
        try:
            st = await aiofiles.os.stat(real)
        except FileNotFoundError:
            raise FileMissing(f"No such file: {path}", details={"path": path}) from None
        return self._meta(path, real, st)

    async def list_dir(self, path: str) -> list[FileMetadata]:
        real = self._resolve(path)
        if not real.is_dir():
            raise FileMissing(f"No such folder: {path}", details={"path": path})
        return await asyncio.to_thread(self._scan, path, real)

    def _scan(self, path: str, real: Path) -> list[FileMetadata]:
        out = []
        for entry in os.scandir(real):
            if not path and entry.name in (TMP, ".webos-trash"):
                continue
            child = f"{path}/{entry.name}" if path else entry.name
            try:
                child_real = self._resolve(child)
                out.append(self._meta(child, child_real, child_real.stat()))
            except (PathRejected, OSError):
                continue  # symlinks out of the root are not shown
        return sorted(out, key=lambda m: (not m.is_dir, m.name))

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        real = self._resolve(path)
        if not real.is_file():
            raise FileMissing(f"No such file: {path}", details={"path": path})
        async with aiofiles.open(real, "rb") as handle:
            await handle.seek(offset)
            async for chunk in read_span(handle.read, length):
                yield chunk

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        target = self._resolve(path)
        parent = target.parent
        try:
            await asyncio.to_thread(parent.mkdir, parents=True, exist_ok=True)
        except OSError:
            raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
        if target.is_dir():
            raise FileExists(f"A folder exists at {path}", details={"path": path})
        tmp = self._real_root / TMP / uuid.uuid4().hex
        tmp.parent.mkdir(exist_ok=True)
        fd = await asyncio.to_thread(os.open, tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:  # each MiB straight from the body's own pieces (no buffer copy), beside the next
                await write_behind(chunks, lambda group: _write_all(fd, group))
            finally:
                os.close(fd)
            await aiofiles.os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return await self.get_stat(path)

    async def delete(self, path: str) -> None:
        real = self._resolve(path)
        if real == self._real_root:
            raise PathRejected("Cannot delete the source's root", details={"field": "path"})
        if real.is_dir():
            await asyncio.to_thread(shutil.rmtree, real)
        elif real.exists():
            await aiofiles.os.remove(real)
        else:
            raise FileMissing(f"No such file: {path}", details={"path": path})

    async def move(self, src: str, dst: str) -> None:
        src_real, dst_real = self._resolve(src), self._resolve(dst)
        if not src_real.exists():
            raise FileMissing(f"No such file: {src}", details={"path": src})
        if dst_real.exists():
            raise FileExists(f"Already exists: {dst}", details={"path": dst})
        await asyncio.to_thread(dst_real.parent.mkdir, parents=True, exist_ok=True)
        await aiofiles.os.rename(src_real, dst_real)

    async def mkdir(self, path: str) -> None:
        real = self._resolve(path)
        if real.exists() and not real.is_dir():
            raise FileExists(f"A file exists at {path}", details={"path": path})
        await asyncio.to_thread(real.mkdir, parents=True, exist_ok=True)
