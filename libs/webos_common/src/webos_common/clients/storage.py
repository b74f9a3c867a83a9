"""Async client of the storage service (the AFS), what modules use:

    storage = StorageClient(settings.storage_url, token=token)
    page = await storage.list_dir("fs://reports/")
    async with storage.open("fs://reports/2023.pdf") as stream:
        async for chunk in stream: ...
    await storage.put("fs://reports/2024.pdf", data)

Point it at the service itself or at the gateway's `<gateway>/api/storage`.
Every call carries the bearer token and the context's `traceparent` and
request id; an error answer is raised as the matching `WebOSError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from webos_common.clients.base import ServiceClient, raise_for_error
from webos_common.http.errors import NotFound

__all__ = ["DirPage", "FileInfo", "FileStream", "StorageClient", "raise_for_error"]


class FileInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    urn: str
    name: str
    is_dir: bool
    size: int = 0
    modified: str | None = None
    etag: str | None = None
    content_type: str | None = None
    sha256: str | None = None
    owner: str | None = None
    tags: list[str] = []


class DirPage(BaseModel):
    items: list[FileInfo]
    total: int
    skip: int
    limit: int
    has_more: bool


class FileStream:
    """An open download: iterate it for chunks, or `await read()` everything."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers

    @property
    def size(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None else None

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return str(value) if value is not None else None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.response.aiter_raw()

    async def read(self) -> bytes:
        return await self.response.aread()


class StorageClient(ServiceClient):
    service = "storage"

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, token=token, timeout=timeout, transport=transport)

    async def sources(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", "/sources")
        return result

    async def list_dir(self, urn: str, *, skip: int = 0, limit: int = 100) -> DirPage:
        params = {"urn": urn, "skip": skip, "limit": limit}
        return DirPage.model_validate(await self._json("GET", "/files", params=params))

    async def stat(self, urn: str) -> FileInfo:
        return FileInfo.model_validate(await self._json("GET", "/files/stat", params={"urn": urn}))

    async def exists(self, urn: str) -> bool:
        try:
            await self.stat(urn)
        except NotFound:
            return False
        return True

    async def mkdir(self, urn: str) -> FileInfo:
        return FileInfo.model_validate(await self._json("POST", "/files/mkdir", json={"urn": urn}))

    async def put(self, urn: str, data: bytes | AsyncIterable[bytes], *, content_type: str | None = None) -> FileInfo:
        """Upload (streamed when `data` is an async iterable of chunks)."""
        headers = {"content-type": content_type} if content_type else None
        body = await self._json("PUT", "/files/content", params={"urn": urn}, content=data, headers=headers)
        return FileInfo.model_validate(body)

    @asynccontextmanager
    async def open(self, urn: str, *, offset: int = 0, length: int | None = None) -> AsyncIterator[FileStream]:
        """Stream a file (or the bytes `[offset, offset+length)`)."""
        extra = None
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            extra = {"range": f"bytes={offset}-{end}"}
        request = self._http.build_request("GET", "/files/content", params={"urn": urn},
                                           headers=self._headers(extra))
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._gone(exc) from exc
        try:
            if response.status_code >= 400:
                raise_for_error(response, await response.aread(), service=self.service)
            yield FileStream(response)
        finally:
            await response.aclose()

    async def read_bytes(self, urn: str) -> bytes:
        async with self.open(urn) as stream:
            return await stream.read()

    async def delete(self, urn: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("DELETE", "/files", params={"urn": urn})
        return result

    async def move(self, src: str, dst: str) -> dict[str, Any]:
        """Move; a large cross-source move answers at once with a running job (see `job`)."""
        result: dict[str, Any] = await self._json("POST", "/files/move", json={"src": src, "dst": dst})
        return result

    async def copy(self, src: str, dst: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("POST", "/files/copy", json={"src": src, "dst": dst})
        return result

    async def job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", f"/jobs/{job_id}")
        return result

    async def set_tags(self, urn: str, tags: list[str]) -> FileInfo:
        return FileInfo.model_validate(await self._json("PUT", "/files/tags", json={"urn": urn, "tags": tags}))

    async def search(self, *, name: str | None = None, tag: str | None = None, owner: str | None = None,
                     skip: int = 0, limit: int = 100) -> DirPage:
        params: dict[str, Any] = {k: v for k, v in {"name": name, "tag": tag, "owner": owner}.items() if v}
        params.update(skip=skip, limit=limit)
        return DirPage.model_validate(await self._json("GET", "/search", params=params))

    async def share(self, urn: str, *, expires_in: int = 3600) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("POST", "/shares", json={"urn": urn, "expires_in": expires_in})
        return result
