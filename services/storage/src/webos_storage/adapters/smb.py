"""`SmbDataSource`: a folder on an SMB 2/3 share, through smbprotocol's `smbclient`.

smbprotocol is the maintained SMB 2/3 client for Python (signing,
encryption, DFS, Kerberos); it is synchronous, so every call runs in a
worker thread, one chunk at a time, and the event loop never blocks. The
source keeps its own connection cache, so disconnecting it drops only its
sessions. Ranges are a seek; writes go to `.webos-tmp/` and are renamed into
place with replace semantics (one SMB `SET_INFO` rename).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import stat as st
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from typing import Any, TypeVar

import smbclient
import smbclient.shutil
from smbprotocol.exceptions import SMBException

from webos_common.files.afs import ByteStream, Capabilities, FileExists, FileMetadata, FileMissing
from webos_storage.adapters.remote import (
    CHUNK,
    EPOCH,
    dir_meta,
    file_meta,
    hidden,
    refuse_folder_at,
    refuse_root,
    remote_parent,
    remote_path,
    sort_entries,
    tmp_path,
    write_behind,
)

T = TypeVar("T")
WRITE_GROUP = 4 * CHUNK  # bytes per SMB write: each is a round trip through smbprotocol's thread (Samba takes 8 MiB)
logging.getLogger("smbprotocol").setLevel(logging.WARNING)  # one INFO line per SMB message otherwise
logging.getLogger("smbclient").setLevel(logging.WARNING)

# SMB refuses these characters in names; like Windows' and macOS's SMB
# clients (and Samba's vfs_catia), they are stored as the private-use
# characters U+F000 + code, and shown as themselves again.
_TO_SMB = {ord(c): chr(0xF000 + ord(c)) for c in '"*:<>?|'}
_FROM_SMB = {ord(v): chr(k) for k, v in _TO_SMB.items()}


def _encode(path: str) -> str:
    return path.translate(_TO_SMB)


def _decode(name: str) -> str:
    return name.translate(_FROM_SMB)


@contextlib.contextmanager
def _mapped(path: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:  # smbprotocol's SMBOSError carries the errno, not the subclass
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise FileMissing(f"No such file: {path}", details={"path": path}) from None
        if exc.errno == errno.EEXIST:
            raise FileExists(f"Already exists: {path}", details={"path": path}) from None
        raise


@contextlib.contextmanager
def _in_the_way(path: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EEXIST):
            raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
        raise


def _want(left: int | None) -> int:
    return CHUNK if left is None else max(0, min(CHUNK, left))


def _write_all(handle: Any, data: bytes) -> None:
    """Unbuffered SMB writes may take less than offered (the credits at hand): write the rest."""
    view, done = memoryview(data), 0
    while done < len(data):
        done += handle.write(data if done == 0 else view[done:])


class SmbDataSource:
    # smbprotocol reports a refused connection as ValueError and a lost one as an SMBException
    unavailable_errors = (SMBException, ValueError)

    def __init__(self, source_id: str, *, host: str, port: int = 445, share: str, root: str = "",
                 username: str | None = None, password: str | None = None) -> None:
        self.id = source_id
        self.host, self.port, self.share = host, port, share
        self.username, self.password = username, password
        self.root = root.strip("/")
        self._cache: dict[str, Any] = {}

    def capabilities(self) -> Capabilities:
        return Capabilities(kind="smb", extra={"host": self.host, "share": self.share, "atomic_move": "true",
                                               "server_copy": "false"})

    def _kw(self) -> dict[str, Any]:
        return {"port": self.port, "username": self.username, "password": self.password,
                "connection_cache": self._cache}

    def _unc(self, path: str) -> str:
        full = remote_path(self.root, _encode(path))
        rest = "" if full == "." else full.replace("/", "\\")
        return f"\\\\{self.host}\\{self.share}" + (f"\\{rest}" if rest else "")

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs, **self._kw())

    async def connect(self) -> None:
        await asyncio.to_thread(smbclient.register_session, self.host, username=self.username,
                                password=self.password, port=self.port, connection_cache=self._cache,
                                connection_timeout=10)
        if self.root:
            await self._run(smbclient.makedirs, self._unc(""), exist_ok=True)

    async def disconnect(self) -> None:
        cache = self._cache
        self._cache = {}
        with contextlib.suppress(Exception):
            await asyncio.to_thread(smbclient.reset_connection_cache, fail_on_error=False, connection_cache=cache)

    def _meta(self, path: str, result: Any) -> FileMetadata:
        modified = EPOCH + timedelta(microseconds=result.st_mtime_ns // 1000)
        if st.S_ISDIR(result.st_mode):
            return dir_meta(path, modified=modified)
        return file_meta(path, size=result.st_size, modified=modified)

    async def get_stat(self, path: str) -> FileMetadata:
        with _mapped(path):
            return self._meta(path, await self._run(smbclient.stat, self._unc(path)))

    async def list_dir(self, path: str) -> list[FileMetadata]:
        if not (await self.get_stat(path)).is_dir:
            raise FileMissing(f"No such folder: {path}", details={"path": path})
        with _mapped(path):
            entries = await asyncio.to_thread(self._scan, path)
        return sort_entries(entries)

    def _scan(self, path: str) -> list[FileMetadata]:
        out = []
        for entry in smbclient.scandir(self._unc(path), **self._kw()):
            name = _decode(entry.name)
            if hidden(path, name):
                continue
            child = f"{path}/{name}" if path else name
            info = entry.smb_info
            modified = info.last_write_time.replace(tzinfo=UTC) if info.last_write_time.tzinfo is None \
                else info.last_write_time
            out.append(dir_meta(child, modified=modified) if entry.is_dir()
                       else file_meta(child, size=info.end_of_file, modified=modified))
        return out

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        with _mapped(path):
            handle = await self._run(smbclient.open_file, self._unc(path), mode="rb", buffering=0)
        try:
            if offset:
                await asyncio.to_thread(handle.seek, offset)
            left = length
            # one read ahead: the next MiB crosses the network while this one is passed on
            ahead = asyncio.ensure_future(asyncio.to_thread(handle.read, _want(left)))
            try:
                while chunk := await ahead:
                    if left is not None:
                        left -= len(chunk)
                    ahead = asyncio.ensure_future(asyncio.to_thread(handle.read, _want(left)))
                    yield chunk
            finally:
                with contextlib.suppress(Exception):
                    await ahead  # the thread finishes its read before the handle closes
        finally:
            await asyncio.to_thread(handle.close)

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        await refuse_folder_at(path, self.get_stat)
        with _in_the_way(path):
            await self._run(smbclient.makedirs, self._dir_unc(path), exist_ok=True)
        tmp = tmp_path(self.root)
        await self._run(smbclient.makedirs, self._unc_full(remote_parent(tmp)), exist_ok=True)
        handle = await self._run(smbclient.open_file, self._unc_full(tmp), mode="wb", buffering=0)
        try:
            try:
                await write_behind(chunks, lambda group: _write_all(handle, b"".join(group)), size=WRITE_GROUP)
            finally:
                await asyncio.to_thread(handle.close)
            await self._run(smbclient.replace, self._unc_full(tmp), self._unc(path))
        except BaseException:
            with contextlib.suppress(Exception):
                await self._run(smbclient.remove, self._unc_full(tmp))
            raise
        return await self.get_stat(path)

    def _unc_full(self, full: str) -> str:
        return f"\\\\{self.host}\\{self.share}\\" + full.replace("/", "\\")

    def _dir_unc(self, path: str) -> str:
        return self._unc(path.rpartition("/")[0])

    async def delete(self, path: str) -> None:
        refuse_root(path, "delete")
        meta = await self.get_stat(path)
        with _mapped(path):
            if meta.is_dir:
                await self._run(smbclient.shutil.rmtree, self._unc(path))
            else:
                await self._run(smbclient.remove, self._unc(path))

    async def move(self, src: str, dst: str) -> None:
        await self.get_stat(src)
        with contextlib.suppress(FileMissing):
            await self.get_stat(dst)
            raise FileExists(f"Already exists: {dst}", details={"path": dst})
        await self._run(smbclient.makedirs, self._dir_unc(dst), exist_ok=True)
        with _mapped(src):
            await self._run(smbclient.rename, self._unc(src), self._unc(dst))

    async def mkdir(self, path: str) -> None:
        with contextlib.suppress(FileMissing):
            if not (await self.get_stat(path)).is_dir:
                raise FileExists(f"A file exists at {path}", details={"path": path})
            return
        with _in_the_way(path):
            await self._run(smbclient.makedirs, self._unc(path), exist_ok=True)
