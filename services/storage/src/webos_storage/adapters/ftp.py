"""`FtpDataSource`: a folder on an FTP server (FTPS with explicit TLS), through aioftp.

FTP runs one command at a time per control connection and a transfer holds
it, so the source keeps a small pool of logged-in clients: each call takes
an idle one or opens another. Ranges are `REST` (a start offset; the stream
stops after `length`, and that client is dropped rather than reused).
Listing and stat use `MLSD`/`MLST` (RFC 3659). Writes go to `.webos-tmp/`
and are renamed into place.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aioftp

from webos_common.files.afs import ByteStream, Capabilities, FileExists, FileMetadata, FileMissing
from webos_storage.adapters.guard import SourceDown
from webos_storage.adapters.remote import (
    CHUNK,
    batches,
    dir_meta,
    file_meta,
    folder_in_the_way,
    hidden,
    refuse_root,
    remote_parent,
    remote_path,
    sort_entries,
    tmp_path,
)

IDLE = 4
IO_TIMEOUT = 30  # seconds a control or data connection may stay silent
WRITE_AHEAD = 4 * CHUNK  # bytes of an upload queued for the data connection before waiting for it


def _modified(info: dict[str, Any]) -> datetime | None:
    raw = info.get("modify")
    try:
        return datetime.strptime(raw[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC) if raw else None
    except ValueError:
        return None


def _missing(exc: aioftp.StatusCodeError) -> bool:
    return any(str(code).startswith("55") for code in exc.received_codes)


class FtpDataSource:
    unavailable_errors = ()

    def __init__(self, source_id: str, *, host: str, port: int = 21, username: str = "anonymous",
                 password: str | None = None, root: str = "", tls: bool = False, ca_file: str | None = None) -> None:
        self.id = source_id
        self.host, self.port, self.username, self.password = host, port, username, password or ""
        self.root = root.rstrip("/")
        self.tls, self.ca_file = tls, ca_file
        self._idle: list[aioftp.Client] = []

    def capabilities(self) -> Capabilities:
        return Capabilities(kind="ftps" if self.tls else "ftp",
                            extra={"host": self.host, "atomic_move": "true", "server_copy": "false"})

    async def _open_client(self) -> aioftp.Client:
        client = aioftp.Client(socket_timeout=IO_TIMEOUT, path_timeout=IO_TIMEOUT, encoding="utf-8")
        try:
            await client.connect(self.host, self.port)
            if self.tls:
                await client.upgrade_to_tls(ssl.create_default_context(cafile=self.ca_file))
            await client.login(self.username, self.password)
        except aioftp.StatusCodeError as exc:
            client.close()
            raise SourceDown(f"the server refused the login: {exc.info}") from exc
        except BaseException:
            client.close()
            raise
        return client

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[aioftp.Client]:
        client = self._idle.pop() if self._idle else await self._open_client()
        try:
            yield client
        except (aioftp.StatusCodeError, FileMissing, FileExists):
            self._release(client)  # a protocol answer: the connection is fine
            raise
        except BaseException:
            client.close()
            raise
        self._release(client)

    def _release(self, client: aioftp.Client) -> None:
        if len(self._idle) < IDLE:
            self._idle.append(client)
        else:
            client.close()

    async def connect(self) -> None:
        async with self._client() as client:
            if self.root:
                await client.make_directory(self.root)

    async def disconnect(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _full(self, path: str) -> str:
        return remote_path(self.root, path)

    async def _info(self, client: aioftp.Client, path: str) -> dict[str, Any] | None:
        try:
            return dict(await client.stat(self._full(path)))
        except aioftp.StatusCodeError as exc:
            if _missing(exc):
                return None
            raise SourceDown(f"stat failed: {exc.info}") from exc

    @staticmethod
    def _meta(path: str, info: dict[str, Any]) -> FileMetadata:
        if info.get("type") in ("dir", "cdir", "pdir"):
            return dir_meta(path, modified=_modified(info))
        return file_meta(path, size=int(info.get("size", 0)), modified=_modified(info))

    async def get_stat(self, path: str) -> FileMetadata:
        async with self._client() as client:
            info = await self._info(client, path)
        if info is None:
            raise FileMissing(f"No such file: {path}", details={"path": path})
        return self._meta(path, info)

    async def list_dir(self, path: str) -> list[FileMetadata]:
        async with self._client() as client:
            info = await self._info(client, path)
            if info is None or info.get("type") not in ("dir", "cdir"):
                raise FileMissing(f"No such folder: {path}", details={"path": path})
            found = [(p.name, dict(i)) for p, i in await client.list(self._full(path))]
        return sort_entries([self._meta(posixpath.join(path, name) if path else name, i)
                             for name, i in found if not hidden(path, name) and i.get("type") in ("dir", "file")])

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        """The bytes from `offset` (REST). A data connection that ends before the
        file does (uvloop's TLS can drop the last records when the server closes
        first) is resumed where it stopped, as FTP clients do; twice at most."""
        to_end = length is None
        if length is None:
            length = (await self.get_stat(path)).size - offset
        sent = 0
        for _ in range(3):
            async for block in self._retrieve(path, offset + sent, length - sent, to_end=to_end):
                sent += len(block)
                yield block
            if sent >= length:
                return
        raise SourceDown(f"the download of {path} kept ending early ({sent} of {length} bytes)")

    async def _retrieve(self, path: str, offset: int, length: int, *, to_end: bool) -> ByteStream:
        client = self._idle.pop() if self._idle else await self._open_client()
        reusable = False
        try:
            try:
                stream = await client.download_stream(self._full(path), offset=offset)
            except aioftp.StatusCodeError as exc:
                reusable = True
                if _missing(exc):
                    raise FileMissing(f"No such file: {path}", details={"path": path}) from exc
                raise SourceDown(f"download refused: {exc.info}") from exc
            left, reader = length, stream.reader
            while left:  # whole MiBs from asyncio's buffer: one copy each, and few chunks to pass on
                try:
                    async with asyncio.timeout(IO_TIMEOUT):
                        block = await reader.readexactly(min(CHUNK, left))
                except asyncio.IncompleteReadError as end:  # the data connection closed: the file ended
                    block = end.partial
                if not block:
                    break
                left -= len(block)
                yield block
            if left == 0 and not to_end:
                return  # stopped inside the file: this connection is mid-transfer, so it is dropped
            await stream.finish()
            reusable = True
        finally:
            if reusable:
                self._release(client)
            else:
                client.close()

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        refuse_root(path)
        full, tmp = self._full(path), tmp_path(self.root)
        async with self._client() as client:
            info = await self._info(client, path)
            if info is not None and info.get("type") == "dir":
                raise folder_in_the_way(path)
            try:
                await client.make_directory(remote_parent(full))
            except aioftp.StatusCodeError:
                raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
            await client.make_directory(remote_parent(tmp))
            try:
                sent = 0  # a list of socket reads per write (writelines): fewer, larger sends, no joining copy
                async with client.upload_stream(tmp) as stream:
                    # drain() waits only while more than WRITE_AHEAD is queued: the body keeps arriving
                    # (and being hashed) while the last MiBs go out, instead of stalling on each one
                    stream.writer.transport.set_write_buffer_limits(high=WRITE_AHEAD)
                    async for group in batches(chunks):
                        stream.writer.writelines(group)
                        sent += sum(map(len, group))
                        async with asyncio.timeout(IO_TIMEOUT):
                            await stream.writer.drain()
                info = dict(await client.stat(tmp))  # a rename keeps size and time: the answer's metadata
                if int(info.get("size", -1)) != sent:  # a data connection cut short is not a file
                    raise SourceDown(f"the server stored {info.get('size')} of {sent} bytes")
                try:
                    await client.rename(tmp, full)
                except aioftp.StatusCodeError:  # servers that refuse to rename onto a file
                    await client.remove_file(full)
                    await client.rename(tmp, full)
            except BaseException:
                with contextlib.suppress(Exception):
                    await client.remove_file(tmp)
                raise
        return self._meta(path, info)

    async def delete(self, path: str) -> None:
        refuse_root(path, "delete")
        async with self._client() as client:
            if await self._info(client, path) is None:
                raise FileMissing(f"No such file: {path}", details={"path": path})
            await client.remove(self._full(path))

    async def move(self, src: str, dst: str) -> None:
        async with self._client() as client:
            if await self._info(client, src) is None:
                raise FileMissing(f"No such file: {src}", details={"path": src})
            if await self._info(client, dst) is not None:
                raise FileExists(f"Already exists: {dst}", details={"path": dst})
            await client.make_directory(remote_parent(self._full(dst)))
            await client.rename(self._full(src), self._full(dst))

    async def mkdir(self, path: str) -> None:
        async with self._client() as client:
            info = await self._info(client, path)
            if info is not None:
                if info.get("type") not in ("dir", "cdir"):
                    raise FileExists(f"A file exists at {path}", details={"path": path})
                return
            try:
                await client.make_directory(self._full(path))
            except aioftp.StatusCodeError:
                raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
