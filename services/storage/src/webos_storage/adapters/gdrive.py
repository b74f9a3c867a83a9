"""`DriveDataSource`: a folder of a Google Drive, through the Drive v3 REST API.

Google's Python client is synchronous and its async alternatives add a
discovery layer over the same few calls, so the adapter speaks the API with
httpx's async client: `files.list` (`q` by parent and name) to walk a path,
`files.get` (`alt=media` with `Range`) to read, resumable uploads in 8 MiB
chunks (nothing visible until the last chunk lands; memory stays at one
chunk) to write, `files.update` (`addParents`/`removeParents`, `name`) to
move, `files.delete`, and folder creation for `mkdir`. OAuth: an offline
refresh token is exchanged at `token_uri` and renewed on expiry or a 401.

`api_url`/`token_uri` default to Google's; the tests point them at
`webos_storage.testing.drive_server`, a loopback server for exactly this
subset, so the code path is the one used against Google.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from webos_common.files.afs import (
    ByteStream,
    Capabilities,
    FileExists,
    FileMetadata,
    FileMissing,
    basename,
)
from webos_storage.adapters.guard import SourceDown
from webos_storage.adapters.remote import CHUNK, dir_meta, file_meta, hidden, refuse_root, sort_entries

GOOGLE_API = "https://www.googleapis.com"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint, not a secret
FOLDER = "application/vnd.google-apps.folder"
FIELDS = "id,name,mimeType,size,modifiedTime,md5Checksum"
UPLOAD_CHUNK = 8 * 1024 * 1024  # a multiple of 256 KiB, as Drive requires


def _q(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _modified(raw: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None


class DriveDataSource:
    unavailable_errors = (httpx.TransportError,)

    def __init__(self, source_id: str, *, root: str = "", client_id: str, client_secret: str, refresh_token: str,
                 api_url: str | None = None, token_uri: str | None = None, ca_file: str | None = None,
                 timeout: float = 15.0) -> None:
        self.id = source_id
        self.root = root.strip("/")
        self.api = (api_url or GOOGLE_API).rstrip("/")
        self.token_uri = token_uri or GOOGLE_TOKEN
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self._options: dict[str, Any] = {"verify": ca_file or True, "timeout": httpx.Timeout(timeout, read=None)}
        self._client = httpx.AsyncClient(**self._options)
        self._token: str | None = None
        self._expires = 0.0
        self._root_id = "root"

    def capabilities(self) -> Capabilities:
        return Capabilities(kind="gdrive", extra={"api": self.api, "atomic_move": "true", "server_copy": "false"})

    # -- auth and requests -------------------------------------------------
    async def _refresh(self) -> None:
        response = await self._client.post(self.token_uri, data={
            "grant_type": "refresh_token", "refresh_token": self.refresh_token,
            "client_id": self.client_id, "client_secret": self.client_secret})
        if response.status_code != 200:
            raise SourceDown(f"the token endpoint refused the credentials ({response.status_code})")
        body = response.json()
        self._token, self._expires = body["access_token"], time.monotonic() + float(body.get("expires_in", 3600)) - 60

    async def _headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires:
            await self._refresh()
        return {"Authorization": f"Bearer {self._token}"}

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        extra = kwargs.pop("headers", {})
        for attempt in (1, 2):
            response = await self._client.request(method, url, headers={**await self._headers(), **extra}, **kwargs)
            if response.status_code == 401 and attempt == 1:
                self._token = None
                continue
            break
        if response.status_code in (401, 403):
            raise SourceDown(f"Drive refused the request ({response.status_code})")
        if response.status_code >= 500 or response.status_code == 429:
            raise SourceDown(f"Drive answered {response.status_code}")
        return response

    async def connect(self) -> None:
        await self._refresh()
        if self.root:
            self._root_id = "root"
            self._root_id = await self._make_folders(self.root.split("/"), "root")

    async def disconnect(self) -> None:
        await self._client.aclose()
        self._client = httpx.AsyncClient(**self._options)
        self._token = None

    # -- paths to ids ------------------------------------------------------
    async def _children(self, parent_id: str, name: str | None = None) -> AsyncIterator[dict[str, Any]]:
        q = f"'{_q(parent_id)}' in parents and trashed = false"
        if name is not None:
            q += f" and name = '{_q(name)}'"
        token: str | None = None
        while True:
            params = {"q": q, "fields": f"nextPageToken,files({FIELDS})", "pageSize": "1000"}
            if token:
                params["pageToken"] = token
            response = await self._request("GET", f"{self.api}/drive/v3/files", params=params)
            if response.status_code == 404:
                raise FileMissing("No such folder", details={"path": parent_id})
            body = response.json()
            for item in body.get("files", []):
                yield item
            token = body.get("nextPageToken")
            if not token:
                return

    async def _child(self, parent_id: str, name: str) -> dict[str, Any] | None:
        async for item in self._children(parent_id, name):
            return item
        return None

    async def _find(self, path: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = {"id": self._root_id, "name": "", "mimeType": FOLDER}
        for part in path.split("/") if path else []:
            if item is None or item["mimeType"] != FOLDER:
                return None
            item = await self._child(item["id"], part)
        return item

    async def _get(self, path: str) -> dict[str, Any]:
        item = await self._find(path)
        if item is None:
            raise FileMissing(f"No such file: {path}", details={"path": path})
        return item

    async def _make_folders(self, parts: list[str], parent_id: str) -> str:
        for part in parts:
            found = await self._child(parent_id, part)
            if found is not None and found["mimeType"] != FOLDER:
                raise FileExists(f"A file is in the way: {part}", details={"path": part})
            if found is None:
                response = await self._request("POST", f"{self.api}/drive/v3/files", params={"fields": FIELDS},
                                               json={"name": part, "mimeType": FOLDER, "parents": [parent_id]})
                found = response.json()
            parent_id = found["id"]
        return parent_id

    def _meta(self, path: str, item: dict[str, Any]) -> FileMetadata:
        modified = _modified(item.get("modifiedTime"))
        if item["mimeType"] == FOLDER:
            return dir_meta(path, modified=modified)
        md5 = item.get("md5Checksum")
        return file_meta(path, size=int(item.get("size") or 0), modified=modified,
                         etag=f'"{md5}"' if md5 else None)

    # -- the DataSource protocol -------------------------------------------
    async def get_stat(self, path: str) -> FileMetadata:
        return self._meta(path, await self._get(path))

    async def list_dir(self, path: str) -> list[FileMetadata]:
        folder = await self._get(path)
        if folder["mimeType"] != FOLDER:
            raise FileMissing(f"No such folder: {path}", details={"path": path})
        out = [self._meta(f"{path}/{i['name']}" if path else i["name"], i)
               async for i in self._children(folder["id"]) if not hidden(path, i["name"])]
        return sort_entries(out)

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        item = await self._get(path)
        if item["mimeType"] == FOLDER:
            raise FileMissing(f"No such file: {path}", details={"path": path})
        headers = await self._headers()
        if offset or length is not None:
            headers["Range"] = f"bytes={offset}-{'' if length is None else offset + length - 1}"
        request = self._client.build_request("GET", f"{self.api}/drive/v3/files/{item['id']}",
                                             params={"alt": "media"}, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            if response.status_code not in (200, 206):
                raise SourceDown(f"Drive answered {response.status_code} to a download")
            async for chunk in response.aiter_raw(CHUNK):
                yield chunk
        finally:
            await response.aclose()

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        refuse_root(path)
        folder, _, name = path.rpartition("/")
        try:
            parent_id = await self._make_folders(folder.split("/") if folder else [], self._root_id)
        except FileExists:
            raise FileExists(f"A file is in the way of {path}", details={"path": path}) from None
        existing = await self._child(parent_id, name)
        if existing is not None and existing["mimeType"] == FOLDER:
            raise FileExists(f"A folder exists at {path}", details={"path": path})
        ctype = content_type or "application/octet-stream"
        if existing is None:  # a new file: created by the upload's last chunk
            session = await self._request("POST", f"{self.api}/upload/drive/v3/files",
                                          params={"uploadType": "resumable", "fields": FIELDS},
                                          json={"name": name, "parents": [parent_id], "mimeType": ctype},
                                          headers={"X-Upload-Content-Type": ctype})
        else:  # new content for the same file: visible when the upload completes
            session = await self._request("PATCH", f"{self.api}/upload/drive/v3/files/{existing['id']}",
                                          params={"uploadType": "resumable", "fields": FIELDS}, json={},
                                          headers={"X-Upload-Content-Type": ctype})
        if session.status_code != 200 or "location" not in session.headers:
            raise SourceDown(f"Drive refused the upload ({session.status_code})")
        item = await self._upload(session.headers["location"], chunks)
        return self._meta(path, item)

    async def _upload(self, location: str, chunks: ByteStream) -> dict[str, Any]:
        sent, buffer = 0, bytearray()
        try:
            async for chunk in chunks:
                buffer += chunk
                while len(buffer) > UPLOAD_CHUNK:  # hold one chunk back: the last one carries the total
                    part = bytes(buffer[:UPLOAD_CHUNK])
                    del buffer[:UPLOAD_CHUNK]
                    await self._put(location, part, f"bytes {sent}-{sent + len(part) - 1}/*", 308)
                    sent += len(part)
            total = sent + len(buffer)
            span = f"bytes {sent}-{total - 1}/{total}" if buffer else f"bytes */{total}"
            response = await self._put(location, bytes(buffer), span, 200, 201)
        except BaseException:
            with contextlib.suppress(Exception):  # cancel the session: Drive drops what it holds
                await self._client.delete(location, headers=await self._headers())
            raise
        result: dict[str, Any] = response.json()
        return result

    async def _put(self, location: str, data: bytes, span: str, *expected: int) -> httpx.Response:
        response = await self._request("PUT", location, content=data, headers={"Content-Range": span})
        if response.status_code not in expected:
            raise SourceDown(f"Drive answered {response.status_code} to an upload chunk")
        return response

    async def delete(self, path: str) -> None:
        refuse_root(path, "delete")
        item = await self._get(path)
        response = await self._request("DELETE", f"{self.api}/drive/v3/files/{item['id']}")
        if response.status_code == 404:
            raise FileMissing(f"No such file: {path}", details={"path": path})

    async def move(self, src: str, dst: str) -> None:
        item = await self._get(src)
        if await self._find(dst) is not None:
            raise FileExists(f"Already exists: {dst}", details={"path": dst})
        folder = dst.rpartition("/")[0]
        new_parent = await self._make_folders(folder.split("/") if folder else [], self._root_id)
        old_parent = (await self._get(src.rpartition("/")[0]))["id"]
        params = {"fields": FIELDS}
        if new_parent != old_parent:
            params.update(addParents=new_parent, removeParents=old_parent)
        response = await self._request("PATCH", f"{self.api}/drive/v3/files/{item['id']}", params=params,
                                       json={"name": basename(dst)})
        if response.status_code != 200:
            raise SourceDown(f"Drive answered {response.status_code} to a move")

    async def mkdir(self, path: str) -> None:
        existing = await self._find(path)
        if existing is not None:
            if existing["mimeType"] != FOLDER:
                raise FileExists(f"A file exists at {path}", details={"path": path})
            return
        await self._make_folders(path.split("/"), self._root_id)
