"""`GuardedSource`: what every data source gets around it in the service.

A remote source (FTP, SFTP, SMB, WebDAV, Google Drive) can be down, refuse
its credentials, or drop mid-call. The guard turns those failures into a
503 naming the source (`source_unavailable`, `details.source`) and records
the reason, which discovery (`GET /sources`) shows; the next call after
`retry_seconds` tries to connect again, so a source that comes back is used
again without a restart. The rest of the AFS is untouched by one source's
outage.

It also keeps the capabilities honest: a source that cannot read a range
gets its stream skipped up to the offset here; a read-only one answers a
405 (`not_supported`) to every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from webos_common.files.afs import ByteStream, Capabilities, DataSource, FileMetadata
from webos_common.http.errors import Unavailable, WebOSError
from webos_storage.adapters.remote import window

T = TypeVar("T")


class SourceUnavailable(Unavailable):
    code = "source_unavailable"


class NotSupported(WebOSError):
    status, code = 405, "not_supported"


class SourceDown(Exception):
    """Raised by an adapter when the remote answers but will not serve: refused
    credentials, a 5xx, a dropped session. The guard turns it into a 503."""


# What "the source is down" looks like from the libraries the adapters use;
# an adapter adds its own in `unavailable_errors`. Protocol answers such as
# "no such file" are mapped by the adapters to FileMissing & co. beforehand.
BASE_ERRORS: tuple[type[BaseException], ...] = (SourceDown, OSError, EOFError, asyncio.TimeoutError, ConnectionError)


class GuardedSource:
    def __init__(self, inner: DataSource, *, retry_seconds: float = 5.0, timeout: float = 15.0,
                 read_only: bool = False) -> None:
        self.inner = inner
        self.read_only = read_only
        self.id = inner.id
        self.retry_seconds, self.timeout = retry_seconds, timeout
        self.reason: str | None = None
        self._last_try = 0.0
        self._lock = asyncio.Lock()
        self._errors = BASE_ERRORS + tuple(getattr(inner, "unavailable_errors", ()))

    @property
    def available(self) -> bool:
        return self.reason is None

    def capabilities(self) -> Capabilities:
        caps = self.inner.capabilities()
        if self.read_only:
            return dataclasses.replace(caps, write=False, delete=False, move=False, mkdir=False)
        return caps

    def status(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason}

    async def connect(self) -> None:
        self._last_try = time.monotonic()
        try:
            await asyncio.wait_for(self.inner.connect(), self.timeout)
        except WebOSError:
            raise
        except Exception as exc:
            self.reason = _describe(exc)
            raise SourceUnavailable(self._message(), details={"source": self.id, "reason": self.reason}) from exc
        self.reason = None

    async def disconnect(self) -> None:
        await self.inner.disconnect()

    async def reconnect(self) -> None:
        """Connect again now if the source is down (SourceUnavailable while it stays down)."""
        async with self._lock:
            if self.reason is None:
                return
            with contextlib.suppress(Exception):  # whatever was left of the old connection
                await self.inner.disconnect()
            await self.connect()

    def describe(self) -> str:
        """The source as an operator knows it: its id and where it is (no credentials)."""
        where = getattr(self.inner, "endpoint_url", None) or getattr(self.inner, "root", None)
        bucket = getattr(self.inner, "bucket", None)
        kind = self.inner.capabilities().kind
        return f"data source {self.id} ({kind}" + (f" bucket {bucket}" if bucket else "") + \
            (f" at {where}" if where else "") + ")"

    async def sweep_stale_uploads(self, older_than: float) -> int:
        """The inner source's cleanup of interrupted uploads, if it keeps any (see cleanup.py)."""
        sweep = getattr(self.inner, "sweep_stale_uploads", None)
        if sweep is None:
            return 0
        removed: int = await self._call(lambda: sweep(older_than), slow=True)
        return removed

    def _message(self) -> str:
        return f"Source '{self.id}' is unavailable: {self.reason}"

    def _down(self, exc: BaseException) -> SourceUnavailable:
        self.reason = _describe(exc)
        return SourceUnavailable(self._message(), details={"source": self.id, "reason": self.reason})

    async def ready(self) -> None:
        """Raise SourceUnavailable while the source is down; after `retry_seconds` try it again."""
        await self._ready()

    async def _ready(self) -> None:
        if self.reason is None:
            return
        async with self._lock:
            if self.reason is None:
                return
            if time.monotonic() - self._last_try < self.retry_seconds:
                raise SourceUnavailable(self._message(), details={"source": self.id, "reason": self.reason})
        await self.reconnect()

    async def _call(self, make: Callable[[], Awaitable[T]], *, slow: bool = False) -> T:
        await self._ready()
        try:  # deleting or moving a tree takes many calls: a longer bound
            return await asyncio.wait_for(make(), self.timeout * (20 if slow else 1))
        except WebOSError:
            raise
        except self._errors as exc:
            raise self._down(exc) from exc

    def _writable(self) -> None:
        if not self.capabilities().write:
            raise NotSupported(f"Source '{self.id}' is read-only", details={"source": self.id, "field": "urn"})

    async def list_dir(self, path: str) -> list[FileMetadata]:
        return await self._call(lambda: self.inner.list_dir(path))

    async def get_stat(self, path: str) -> FileMetadata:
        return await self._call(lambda: self.inner.get_stat(path))

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        await self._ready()
        ranged = self.capabilities().range
        stream = self.inner.open_file(path, offset=offset if ranged else 0, length=length if ranged else None)
        try:
            async for chunk in window(stream, 0 if ranged else offset, length):
                yield chunk
        except WebOSError:
            raise
        except self._errors as exc:
            raise self._down(exc) from exc
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        self._writable()
        await self._ready()
        try:  # no overall timeout: an upload lasts as long as its body
            return await self.inner.write_file(path, chunks, content_type=content_type)
        except WebOSError:
            raise
        except self._errors as exc:
            raise self._down(exc) from exc

    async def delete(self, path: str) -> None:
        self._writable()
        await self._call(lambda: self.inner.delete(path), slow=True)

    async def move(self, src: str, dst: str) -> None:
        self._writable()
        await self._call(lambda: self.inner.move(src, dst), slow=True)

    async def mkdir(self, path: str) -> None:
        self._writable()
        await self._call(lambda: self.inner.mkdir(path))


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
