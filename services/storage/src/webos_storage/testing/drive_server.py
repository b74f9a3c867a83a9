"""A loopback server for the subset of the Google Drive v3 REST API that
`DriveDataSource` uses — Google cannot be reached from test machines.

Subset: `POST /token` (refresh-token grant), `files.list` with `q` made of
`'<id>' in parents`, `name = '<name>'` and `trashed = false` joined by
`and` (paged by `pageToken`), `files.get` (metadata, or `alt=media` with a
single `Range`), `files.create` (folders), `files.update` (`name`,
`addParents`, `removeParents`), `files.delete` (a folder with its
contents), and resumable uploads (`uploadType=resumable` on create and
update; `PUT` chunks with `Content-Range`, 308 until the last). Bodies live
on disk, metadata in `meta.json`, so a restarted server keeps its files.
Bearer tokens are checked; a wrong one is a 401, as at Google.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

FOLDER = "application/vnd.google-apps.folder"
_CLAUSE = re.compile(r"""^(?:'((?:[^'\\]|\\.)*)' in parents|name = '((?:[^'\\]|\\.)*)'|trashed = false)$""")
_SPAN = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class Drive:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.uploads = root / "uploads"
        for folder in (self.blobs, self.uploads):
            folder.mkdir(parents=True, exist_ok=True)
        self.meta_path = root / "meta.json"
        self.files: dict[str, dict[str, Any]] = (json.loads(self.meta_path.read_text())
                                                 if self.meta_path.exists() else {})
        self.files.setdefault("root", {"id": "root", "name": "My Drive", "mimeType": FOLDER, "parents": [],
                                       "modifiedTime": _now()})
        self.sessions: dict[str, dict[str, Any]] = {}

    def save(self) -> None:
        self.meta_path.write_text(json.dumps(self.files))

    def view(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k != "parents"} | {"parents": item["parents"]}

    def matches(self, item: dict[str, Any], q: str) -> bool:
        for clause in q.split(" and "):
            found = _CLAUSE.match(clause.strip())
            if not found:
                raise ValueError(clause)
            parent, name = found.group(1), found.group(2)
            if parent is not None and _unescape(parent) not in item["parents"]:
                return False
            if name is not None and _unescape(name) != item["name"]:
                return False
        return True

    def remove(self, file_id: str) -> None:
        for child in [i for i in self.files.values() if file_id in i["parents"]]:
            self.remove(child["id"])
        self.files.pop(file_id, None)
        (self.blobs / file_id).unlink(missing_ok=True)


def create_app(root: Path, *, client_id: str, client_secret: str, refresh_token: str) -> Starlette:
    drive = Drive(root)
    tokens: set[str] = set()

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in tokens

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)

    async def token(request: Request) -> Response:
        form = await request.form()
        if (form.get("grant_type"), form.get("refresh_token"), form.get("client_id"), form.get("client_secret")) != \
                ("refresh_token", refresh_token, client_id, client_secret):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        issued = secrets.token_urlsafe(24)
        tokens.add(issued)
        return JSONResponse({"access_token": issued, "expires_in": 3600, "token_type": "Bearer"})

    async def files(request: Request) -> Response:
        if not authorized(request):
            return error(401, "Invalid Credentials")
        if request.method == "POST":
            body = await request.json()
            item = {"id": secrets.token_hex(12), "name": body["name"], "mimeType": body.get("mimeType", FOLDER),
                    "parents": body.get("parents") or ["root"], "modifiedTime": _now()}
            if item["mimeType"] != FOLDER:
                item |= {"size": "0", "md5Checksum": hashlib.md5(b"").hexdigest()}  # noqa: S324 - Drive's field
                (drive.blobs / item["id"]).write_bytes(b"")
            drive.files[item["id"]] = item
            drive.save()
            return JSONResponse(drive.view(item))
        q = request.query_params.get("q", "")
        try:
            found = [i for i in drive.files.values() if i["id"] != "root" and drive.matches(i, q)]
        except ValueError as exc:
            return error(400, f"Invalid query: {exc}")
        found.sort(key=lambda i: i["name"])
        start, size = int(request.query_params.get("pageToken") or 0), int(request.query_params.get("pageSize", 100))
        page: dict[str, Any] = {"files": [drive.view(i) for i in found[start:start + size]]}
        if start + size < len(found):
            page["nextPageToken"] = str(start + size)
        return JSONResponse(page)

    async def one(request: Request) -> Response:
        if not authorized(request):
            return error(401, "Invalid Credentials")
        item = drive.files.get(request.path_params["file_id"])
        if item is None:
            return error(404, "File not found")
        if request.method == "DELETE":
            drive.remove(item["id"])
            drive.save()
            return Response(status_code=204)
        if request.method == "PATCH":
            body = await request.json() if await request.body() else {}
            if "name" in body:
                item["name"] = body["name"]
            params = request.query_params
            if params.get("removeParents"):
                item["parents"] = [p for p in item["parents"] if p not in params["removeParents"].split(",")]
            if params.get("addParents"):
                item["parents"] += params["addParents"].split(",")
            item["modifiedTime"] = _now()
            drive.save()
            return JSONResponse(drive.view(item))
        if request.query_params.get("alt") != "media":
            return JSONResponse(drive.view(item))
        return media(request, item)

    def media(request: Request, item: dict[str, Any]) -> Response:
        if item["mimeType"] == FOLDER:
            return error(403, "Only files with binary content can be downloaded")
        blob = drive.blobs / item["id"]
        size = blob.stat().st_size
        start, end, status = 0, size - 1, 200
        wanted = re.match(r"^bytes=(\d+)-(\d*)$", request.headers.get("range", ""))
        if wanted:
            start = int(wanted.group(1))
            end = min(int(wanted.group(2)), size - 1) if wanted.group(2) else size - 1
            if start >= size:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            status = 206

        def chunks() -> Any:
            with blob.open("rb") as handle:
                handle.seek(start)
                left = end - start + 1
                while left > 0:
                    data = handle.read(min(1024 * 1024, left))
                    if not data:
                        return
                    left -= len(data)
                    yield data

        headers = {"Content-Length": str(end - start + 1)}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return StreamingResponse(chunks(), status_code=status, headers=headers,
                                 media_type=item.get("mimeType", "application/octet-stream"))

    async def upload_start(request: Request) -> Response:
        if not authorized(request):
            return error(401, "Invalid Credentials")
        if "upload_id" in request.query_params:
            return await upload_chunk(request)
        file_id = request.path_params.get("file_id")
        if file_id is not None and file_id not in drive.files:
            return error(404, "File not found")
        body = await request.json() if await request.body() else {}
        session_id = secrets.token_hex(12)
        drive.sessions[session_id] = {"file_id": file_id, "meta": body, "size": 0}
        (drive.uploads / session_id).write_bytes(b"")
        location = f"{request.base_url}upload/drive/v3/files?uploadType=resumable&upload_id={session_id}"
        return Response(status_code=200, headers={"Location": location})

    async def upload_chunk(request: Request) -> Response:
        session_id = request.query_params["upload_id"]
        session = drive.sessions.get(session_id)
        if session is None:
            return error(404, "No such upload")
        part = drive.uploads / session_id
        if request.method == "DELETE":
            drive.sessions.pop(session_id)
            part.unlink(missing_ok=True)
            return Response(status_code=499)
        span = _SPAN.match(request.headers.get("content-range", ""))
        if not span or (span.group(1) is not None and int(span.group(1)) != session["size"]):
            return error(400, "Bad Content-Range")
        with part.open("ab") as handle:
            async for data in request.stream():
                handle.write(data)
                session["size"] += len(data)
        total = span.group(3)
        if total == "*" or int(total) != session["size"]:
            headers = {"Range": f"bytes=0-{session['size'] - 1}"} if session["size"] else {}
            return Response(status_code=308, headers=headers)
        return JSONResponse(finish(session_id, session, part))

    def finish(session_id: str, session: dict[str, Any], part: Path) -> dict[str, Any]:
        drive.sessions.pop(session_id)
        digest = hashlib.md5()  # noqa: S324 - Drive's md5Checksum field
        with part.open("rb") as handle:
            while data := handle.read(1024 * 1024):
                digest.update(data)
        if session["file_id"]:
            item = drive.files[session["file_id"]]
        else:
            meta = session["meta"]
            item = {"id": secrets.token_hex(12), "name": meta["name"], "parents": meta.get("parents") or ["root"],
                    "mimeType": meta.get("mimeType") or "application/octet-stream"}
        item |= {"size": str(session["size"]), "md5Checksum": digest.hexdigest(), "modifiedTime": _now()}
        shutil.move(part, drive.blobs / item["id"])
        drive.files[item["id"]] = item
        drive.save()
        return drive.view(item)

    return Starlette(routes=[
        Route("/token", token, methods=["POST"]),
        Route("/drive/v3/files", files, methods=["GET", "POST"]),
        Route("/drive/v3/files/{file_id}", one, methods=["GET", "PATCH", "DELETE"]),
        Route("/upload/drive/v3/files", upload_start, methods=["POST", "PUT", "DELETE"]),
        Route("/upload/drive/v3/files/{file_id}", upload_start, methods=["PATCH"]),
    ])
