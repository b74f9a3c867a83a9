"""`WebDavDataSource`: a collection on a WebDAV server (Nextcloud, Apache, nginx, WsgiDAV).

WebDAV is HTTP, so the transport is httpx's async client (already the
project's HTTP client): streamed `GET` with `Range`, streamed `PUT`,
`PROPFIND` (Depth 0/1) for stat and listing, `MKCOL`, `MOVE`, `DELETE`.
`webdav4`, the maintained Python WebDAV client, is synchronous (its client
wraps `httpx.Client`), and streaming through threads would cost a thread
hop per chunk; so only the 207 Multi-Status answer is parsed here (a few
lines of `xml.etree`). Writes go to `.webos-tmp/` and are `MOVE`d into place
with `Overwrite: T`.
"""

from __future__ import annotations

import contextlib
import uuid
import xml.etree.ElementTree as ET  # types only; parsing goes through defusedxml
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import defusedxml.ElementTree as SafeET
import httpx

from webos_common.files.afs import ByteStream, Capabilities, FileExists, FileMetadata, FileMissing
from webos_storage.adapters.guard import SourceDown
from webos_storage.adapters.remote import (
    CHUNK,
    TMP,
    dir_meta,
    file_meta,
    hidden,
    refuse_folder_at,
    refuse_root,
    sort_entries,
    window,
)

DAV = "{DAV:}"
PROPFIND = (b'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/>'
            b"<d:getcontentlength/><d:getlastmodified/><d:getetag/><d:getcontenttype/></d:prop></d:propfind>")


def _modified(text: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None


def _quoted(etag: str | None) -> str | None:
    if not etag:
        return None
    return etag if etag.startswith(('"', "W/")) else f'"{etag}"'


class WebDavDataSource:
    unavailable_errors = (httpx.TransportError,)

    def __init__(self, source_id: str, *, url: str, root: str = "", username: str | None = None,
                 password: str | None = None, ca_file: str | None = None, timeout: float = 15.0) -> None:
        self.id = source_id
        self.url = url.rstrip("/") + "/"
        self.base_path = urlsplit(self.url).path
        self.root = root.strip("/")
        self._options: dict[str, Any] = {
            "base_url": self.url, "auth": httpx.BasicAuth(username, password or "") if username else None,
            "verify": ca_file or True, "timeout": httpx.Timeout(timeout, read=None)}
        self._client = httpx.AsyncClient(**self._options)

    def capabilities(self) -> Capabilities:
        return Capabilities(kind="webdav", extra={"url": self.url, "atomic_move": "true", "server_copy": "false"})

    def _href(self, path: str, *, folder: bool = False) -> str:
        full = "/".join(p for p in (self.root, path) if p)
        return quote(full) + ("/" if folder and full else "")

    async def _send(self, method: str, path: str, *, folder: bool = False, **kwargs: Any) -> httpx.Response:
        response = await self._client.request(method, self._href(path, folder=folder), **kwargs)
        self._check(response)
        return response

    def _check(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise SourceDown(f"the server refused the credentials ({response.status_code})")
        if response.status_code >= 500:
            raise SourceDown(f"the server answered {response.status_code}")

    async def connect(self) -> None:
        if self.root:
            await self.mkdir("")
        else:
            await self.get_stat("")

    async def disconnect(self) -> None:
        await self._client.aclose()
        self._client = httpx.AsyncClient(**self._options)

    async def _propfind(self, path: str, depth: str) -> list[tuple[str, FileMetadata]]:
        response = await self._send("PROPFIND", path, folder=True, content=PROPFIND,
                                    headers={"Depth": depth, "Content-Type": "application/xml"})
        if response.status_code == 404:
            raise FileMissing(f"No such file: {path}", details={"path": path})
        if response.status_code != 207:
            raise SourceDown(f"PROPFIND answered {response.status_code}")
        out = []
        for node in SafeET.fromstring(response.content).iter(f"{DAV}response"):
            href = unquote(urlsplit(node.findtext(f"{DAV}href") or "").path)
            prop = next((ps.find(f"{DAV}prop") for ps in node.iter(f"{DAV}propstat")
                         if "200" in (ps.findtext(f"{DAV}status") or "")), None)
            if prop is None:
                continue
            rel = href[len(self.base_path):].strip("/") if href.startswith(self.base_path) else href.strip("/")
            rel = rel[len(self.root):].strip("/") if self.root else rel
            out.append((rel, self._meta(rel, prop)))
        return out

    @staticmethod
    def _meta(rel: str, prop: ET.Element) -> FileMetadata:
        modified = _modified(prop.findtext(f"{DAV}getlastmodified"))
        kind = prop.find(f"{DAV}resourcetype")
        if kind is not None and kind.find(f"{DAV}collection") is not None:
            return dir_meta(rel, modified=modified)
        return file_meta(rel, size=int(prop.findtext(f"{DAV}getcontentlength") or 0), modified=modified,
                         etag=_quoted(prop.findtext(f"{DAV}getetag")))

    async def get_stat(self, path: str) -> FileMetadata:
        found = await self._propfind(path, "0")
        if not found:
            raise FileMissing(f"No such file: {path}", details={"path": path})
        meta = found[0][1]
        return meta if meta.path == path else FileMetadata(**{**vars(meta), "path": path,
                                                              "name": path.rpartition("/")[2]})

    async def list_dir(self, path: str) -> list[FileMetadata]:
        found = await self._propfind(path, "1")
        own = [m for rel, m in found if rel == path]
        if not own or not own[0].is_dir:
            raise FileMissing(f"No such folder: {path}", details={"path": path})
        return sort_entries([m for rel, m in found if rel != path and not hidden(path, m.name)])

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        headers = {}
        if offset or length is not None:
            headers["Range"] = f"bytes={offset}-{'' if length is None else offset + length - 1}"
        request = self._client.build_request("GET", self._href(path), headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            self._check(response)
            if response.status_code == 404:
                raise FileMissing(f"No such file: {path}", details={"path": path})
            skip = offset if headers and response.status_code == 200 else 0  # a server that ignored Range
            async for chunk in window(response.aiter_raw(CHUNK), skip, length):
                yield chunk
        finally:
            await response.aclose()

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        await refuse_folder_at(path, self.get_stat)
        await self._parents(path)
        await self.mkdir(TMP)
        tmp = f"{TMP}/{uuid.uuid4().hex}"
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            put = await self._send("PUT", tmp, content=chunks, headers=headers)
            if put.status_code not in (200, 201, 204):
                raise SourceDown(f"PUT answered {put.status_code}")
            moved = await self._send("MOVE", tmp, headers={"Destination": self._destination(path),
                                                           "Overwrite": "T"})
            if moved.status_code not in (201, 204):
                raise SourceDown(f"MOVE answered {moved.status_code}")
        except BaseException:
            with contextlib.suppress(Exception):
                await self._client.request("DELETE", self._href(tmp))
            raise
        return await self.get_stat(path)

    def _destination(self, path: str) -> str:
        return str(self._client.base_url.join(self._href(path)))

    async def _parents(self, path: str) -> None:
        folder = path.rpartition("/")[0]
        if folder:
            try:
                await self.mkdir(folder)
            except FileExists:
                raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None

    async def delete(self, path: str) -> None:
        refuse_root(path, "delete")
        meta = await self.get_stat(path)
        response = await self._send("DELETE", path, folder=meta.is_dir)
        if response.status_code == 404:
            raise FileMissing(f"No such file: {path}", details={"path": path})

    async def move(self, src: str, dst: str) -> None:
        meta = await self.get_stat(src)
        with contextlib.suppress(FileMissing):
            await self.get_stat(dst)
            raise FileExists(f"Already exists: {dst}", details={"path": dst})
        await self._parents(dst)
        response = await self._send("MOVE", src, folder=meta.is_dir,
                                    headers={"Destination": self._destination(dst), "Overwrite": "F"})
        if response.status_code == 412:
            raise FileExists(f"Already exists: {dst}", details={"path": dst})
        if response.status_code not in (201, 204):
            raise SourceDown(f"MOVE answered {response.status_code}")

    async def mkdir(self, path: str) -> None:
        """Make the folder and its parents (MKCOL makes one level)."""
        parts = path.split("/") if path else []
        prefixes = [""] if self.root and not parts else []
        prefixes += ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for prefix in prefixes:
            try:
                meta = await self.get_stat(prefix)
            except FileMissing:
                response = await self._send("MKCOL", prefix, folder=True)
                if response.status_code in (405, 409):
                    raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
                continue
            if not meta.is_dir:
                raise FileExists(f"A file exists at {prefix}", details={"path": prefix})
