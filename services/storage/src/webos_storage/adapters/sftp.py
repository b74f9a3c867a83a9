"""`SftpDataSource`: a folder on an SSH server, through asyncssh's SFTP client.

One SSH connection carries every call (SFTP multiplexes requests); large
reads are pipelined by asyncssh. Ranges are a seek. Writes go to
`.webos-tmp/` and are renamed into place with OpenSSH's `posix-rename`
(overwriting atomically) where the server has it.
"""

from __future__ import annotations

import contextlib
import posixpath
import stat as st
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncssh

from webos_common.files.afs import ByteStream, Capabilities, FileExists, FileMetadata, FileMissing
from webos_storage.adapters.remote import (
    dir_meta,
    file_meta,
    folder_in_the_way,
    hidden,
    read_span,
    refuse_root,
    remote_parent,
    remote_path,
    sort_entries,
    tmp_path,
)

DOWN = (asyncssh.DisconnectError, asyncssh.ChannelOpenError, asyncssh.SFTPConnectionLost,
        asyncssh.SFTPNoConnection, asyncssh.PermissionDenied)


@contextlib.contextmanager
def _mapped(path: str) -> Iterator[None]:
    try:
        yield
    except asyncssh.SFTPNoSuchFile:
        raise FileMissing(f"No such file: {path}", details={"path": path}) from None
    except asyncssh.SFTPFileAlreadyExists:
        raise FileExists(f"Already exists: {path}", details={"path": path}) from None


class SftpDataSource:
    unavailable_errors = DOWN

    def __init__(self, source_id: str, *, host: str, port: int = 22, username: str, password: str | None = None,
                 private_key: str | None = None, known_hosts: str | None = None, root: str = "") -> None:
        self.id = source_id
        self.host, self.port, self.username = host, port, username
        self.password, self.private_key, self.known_hosts = password, private_key, known_hosts
        self.root = root.rstrip("/")
        self._conn: Any = None
        self._sftp: Any = None

    def capabilities(self) -> Capabilities:
        return Capabilities(kind="sftp", extra={"host": self.host, "atomic_move": "true", "server_copy": "false"})

    async def connect(self) -> None:
        keys = [asyncssh.import_private_key(self.private_key)] if self.private_key else None
        self._conn = await asyncssh.connect(self.host, self.port, username=self.username, password=self.password,
                                            client_keys=keys, known_hosts=self.known_hosts)
        self._sftp = await self._conn.start_sftp_client()
        if self.root:
            await self._sftp.makedirs(self.root, exist_ok=True)

    async def disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(Exception):
                await self._conn.wait_closed()
            self._conn = self._sftp = None

    def _full(self, path: str) -> str:
        return remote_path(self.root, path)

    def _meta(self, path: str, attrs: Any) -> FileMetadata:
        modified = datetime.fromtimestamp(attrs.mtime, UTC) if attrs.mtime is not None else None
        if attrs.type == asyncssh.FILEXFER_TYPE_DIRECTORY or (attrs.permissions and st.S_ISDIR(attrs.permissions)):
            return dir_meta(path, modified=modified)
        return file_meta(path, size=attrs.size or 0, modified=modified)

    async def get_stat(self, path: str) -> FileMetadata:
        with _mapped(path):
            return self._meta(path, await self._sftp.stat(self._full(path)))

    async def list_dir(self, path: str) -> list[FileMetadata]:
        if not (await self.get_stat(path)).is_dir:
            raise FileMissing(f"No such folder: {path}", details={"path": path})
        with _mapped(path):
            names = await self._sftp.readdir(self._full(path))
        return sort_entries([self._meta(posixpath.join(path, n.filename) if path else n.filename, n.attrs)
                             for n in names if not hidden(path, n.filename)])

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        with _mapped(path):
            handle = await self._sftp.open(self._full(path), "rb")
        async with handle:
            await handle.seek(offset)
            async for chunk in read_span(handle.read, length):
                yield chunk

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        refuse_root(path)
        full = self._full(path)
        if await self._sftp.isdir(full):
            raise folder_in_the_way(path)
        try:
            await self._sftp.makedirs(remote_parent(full), exist_ok=True)
        except asyncssh.SFTPFailure:
            raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
        tmp = tmp_path(self.root)
        await self._sftp.makedirs(remote_parent(tmp), exist_ok=True)
        try:
            async with self._sftp.open(tmp, "wb") as handle:
                async for chunk in chunks:
                    await handle.write(chunk)
            await self._replace(tmp, full)
        finally:
            with contextlib.suppress(asyncssh.SFTPError):
                await self._sftp.remove(tmp)
        return await self.get_stat(path)

    async def _replace(self, tmp: str, full: str) -> None:
        try:
            await self._sftp.posix_rename(tmp, full)
        except asyncssh.SFTPOpUnsupported:
            with contextlib.suppress(asyncssh.SFTPNoSuchFile):
                await self._sftp.remove(full)
            await self._sftp.rename(tmp, full)

    async def delete(self, path: str) -> None:
        refuse_root(path, "delete")
        meta = await self.get_stat(path)
        with _mapped(path):
            if meta.is_dir:
                await self._sftp.rmtree(self._full(path))
            else:
                await self._sftp.remove(self._full(path))

    async def move(self, src: str, dst: str) -> None:
        await self.get_stat(src)
        if await self._sftp.exists(self._full(dst)):
            raise FileExists(f"Already exists: {dst}", details={"path": dst})
        await self._sftp.makedirs(remote_parent(self._full(dst)), exist_ok=True)
        with _mapped(src):
            await self._sftp.rename(self._full(src), self._full(dst))

    async def mkdir(self, path: str) -> None:
        full = self._full(path)
        if await self._sftp.exists(full) and not await self._sftp.isdir(full):
            raise FileExists(f"A file exists at {path}", details={"path": path})
        try:
            await self._sftp.makedirs(full, exist_ok=True)
        except asyncssh.SFTPFailure:
            raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
