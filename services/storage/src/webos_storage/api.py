"""The storage API: a thin router — parse, call the service, return data.

Core-service routes sit at the root; the gateway serves them under
`/api/storage/…`. Every file is named by a `urn` (`fs://<source>/<path>`,
a mount `fs://<mount>/<path>` or `/mnt/<mount>/<path>`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from webos_common.documents.sharing import ID_PATTERN, Share
from webos_common.files.afs import safe_name
from webos_common.http.errors import BadRequest, NotFound, PayloadTooLarge
from webos_common.http.paging import Skip
from webos_common.security import CurrentUser, area_permission
from webos_storage.bootstrap import Container
from webos_storage.http_files import not_modified_or_range, stream_response
from webos_storage.multipart import MultipartStream

router = APIRouter(tags=["storage"], dependencies=[area_permission("storage")])
shares_router = APIRouter(tags=["storage"])  # a signed share link is its own credential
Urn = Annotated[str, Query(min_length=1, max_length=8192, description="fs://<source>/<path>")]
Limit = Annotated[int, Query(ge=1, le=1000)]


class TransferIn(BaseModel):
    src: str = Field(min_length=1, max_length=8192)
    dst: str = Field(min_length=1, max_length=8192)


class MkdirIn(BaseModel):
    urn: str = Field(min_length=1, max_length=8192)


class TagsIn(BaseModel):
    urn: str = Field(min_length=1, max_length=8192)
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(max_length=100)


class ShareIn(BaseModel):
    urn: str = Field(min_length=1, max_length=8192)
    expires_in: int = Field(default=3600, ge=1)


class AclIn(BaseModel):
    """A folder's complete ACL; `entries: null` drops it (the parent's applies again)."""

    urn: str = Field(min_length=1, max_length=8192)
    entries: list[Share] | None = Field(max_length=100)


class QuotaIn(BaseModel):
    bytes: int | None = Field(ge=0, description="bytes the person may own (0: no quota); null: the default")


def storage(request: Request) -> Container:
    container: Container = request.app.state.storage
    return container


@router.get("/sources")
async def list_sources(request: Request, user: CurrentUser) -> dict[str, Any]:
    c = storage(request)
    sources = [{"id": s.id, "urn": f"fs://{s.id}/", **vars(s.capabilities()), **c.source_status(s.id)}
               for s in c.sources.values()]
    mounts = [{"path": f"/mnt/{m.name}", "name": m.name, "target": str(m.target),
               "read_permission": m.read_permission, "write_permission": m.write_permission}
              for m in c.access.mounts.values()]
    return {"sources": sources, "mounts": mounts, "home": str(c.access.home_of(user)) + "/"}


@router.get("/files")
async def list_dir(request: Request, user: CurrentUser, urn: Urn, skip: Skip = 0, limit: Limit = 100) -> dict[str, Any]:
    return await storage(request).service.list_dir(user, urn, skip=skip, limit=limit)


@router.get("/files/stat")
async def stat(request: Request, user: CurrentUser, urn: Urn) -> dict[str, Any]:
    return await storage(request).service.stat(user, urn)


@router.post("/files/mkdir", status_code=201)
async def mkdir(request: Request, user: CurrentUser, body: MkdirIn) -> dict[str, Any]:
    return await storage(request).service.mkdir(user, body.urn)


def refuse_too_large(request: Request) -> None:
    """Before a byte of the body is read (uvicorn answers `Expect: 100-continue` only when the
    body is first read, so such a client never sends it): 413 when it cannot fit."""
    limit = getattr(request.app.state, "max_upload_bytes", 0)
    announced = request.headers.get("content-length")
    if limit and announced and announced.isdigit() and int(announced) > limit:
        raise PayloadTooLarge(f"Upload of {announced} bytes exceeds the limit of {limit} bytes",
                              details={"field": "content-length", "limit": limit})


@router.put("/files/content", status_code=201, dependencies=[Depends(refuse_too_large)], openapi_extra={
    "requestBody": {
        "required": True, "description": "The file's bytes (streamed; Content-Type is stored with it)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_raw(request: Request, user: CurrentUser, urn: Urn) -> dict[str, Any]:
    ctype = request.headers.get("content-type")
    return await storage(request).service.upload(user, urn, request.stream(), content_type=ctype)


@router.post("/files/upload", status_code=201, dependencies=[Depends(refuse_too_large)], openapi_extra={
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    }}}}})
async def upload_multipart(request: Request, user: CurrentUser, urn: Urn) -> dict[str, Any]:
    """Multipart form: every file part is stored in the folder `urn` under its file name, streamed
    to its source as it arrives (no temporary file); other fields are ignored."""
    service = storage(request).service
    stored = []
    form = MultipartStream(request.headers.get("content-type"), request.stream())
    async for part, chunks in form.parts():
        if part.filename is None:
            continue
        target = urn.rstrip("/") + "/" + safe_name(part.filename)  # one segment, no traversal, not overlong
        stored.append(await service.upload(user, target, chunks, content_type=part.content_type))
    if not stored:
        raise BadRequest("No file part in the form", details={"field": "file"})
    return {"items": stored}


@router.get("/files/content", response_model=None)
@router.head("/files/content", response_model=None)  # one route per method: one operationId each
async def download(request: Request, user: CurrentUser, urn: Urn, download: bool = False) -> Response:
    target, meta, entry = await storage(request).service.stat_for_read(user, urn)
    return _send(request, target, meta, entry, download=download)


def _send(request: Request, target: Any, meta: Any, entry: Any, *, download: bool) -> Response:
    wanted = not_modified_or_range(request, meta)
    if isinstance(wanted, Response):
        return wanted
    offset, length = wanted if wanted else (0, None)
    head = request.method == "HEAD"
    stream = None if head else target.source.open_file(target.urn.path, offset=offset, length=length)
    ctype = entry.content_type if entry and entry.content_type else meta.content_type
    return stream_response(meta, ctype, stream, wanted, download=download)


@router.delete("/files")
async def delete(request: Request, user: CurrentUser, urn: Urn) -> dict[str, Any]:
    return await storage(request).service.delete(user, urn)


@router.post("/files/move")
async def move(request: Request, response: Response, user: CurrentUser, body: TransferIn) -> dict[str, Any]:
    result = await storage(request).transfers.transfer(user, body.src, body.dst, keep_source=False)
    response.status_code = 202 if result["background"] else 200
    return result


@router.post("/files/copy")
async def copy(request: Request, response: Response, user: CurrentUser, body: TransferIn) -> dict[str, Any]:
    result = await storage(request).transfers.transfer(user, body.src, body.dst, keep_source=True)
    response.status_code = 202 if result["background"] else 201
    return result


@router.get("/jobs/{job_id}")
async def job(request: Request, user: CurrentUser, job_id: str) -> dict[str, Any]:
    found = await storage(request).jobs.get(job_id)
    if found.owner != user.id and not user.is_admin:
        raise NotFound(f"No job {job_id}", details={"job": job_id})
    return found.to_dict()


@router.put("/files/tags")
async def set_tags(request: Request, user: CurrentUser, body: TagsIn) -> dict[str, Any]:
    return await storage(request).service.set_tags(user, body.urn, body.tags)


@router.get("/search")
async def search(request: Request, user: CurrentUser, name: str | None = None, tag: str | None = None,
                 owner: str | None = None, skip: Skip = 0, limit: Limit = 100) -> dict[str, Any]:
    if not (name or tag or owner):
        raise BadRequest("Give name, tag or owner", details={"field": "name"})
    return await storage(request).service.search(user, name=name, tag=tag, owner=owner, skip=skip, limit=limit)


@router.get("/trash")
async def trash(request: Request, user: CurrentUser) -> dict[str, Any]:
    return {"items": await storage(request).service.list_trash(user)}


@router.post("/trash/{item_id}/restore")
async def restore(request: Request, user: CurrentUser, item_id: str) -> dict[str, Any]:
    return await storage(request).service.restore(user, item_id)


@router.delete("/trash/{item_id}", status_code=204)
async def purge(request: Request, user: CurrentUser, item_id: str) -> Response:
    await storage(request).service.purge(user, item_id)
    return Response(status_code=204)


@router.post("/shares", status_code=201)
async def share(request: Request, user: CurrentUser, body: ShareIn) -> dict[str, Any]:
    result = await storage(request).service.share(user, body.urn, expires_in=body.expires_in)
    return {**result, "path": f"/shares/{result['token']}"}


@shares_router.get("/shares/{token}", response_model=None)
@shares_router.head("/shares/{token}", response_model=None)
async def shared(request: Request, token: str, download: bool = False) -> Response:
    c = storage(request)
    target = await c.service.shared_target(token)
    meta = await target.source.get_stat(target.urn.path)
    if meta.is_dir:
        raise BadRequest("Shared item is a folder", details={"field": "token"})
    return _send(request, target, meta, await c.service.index.get(str(target.urn)), download=download)


@router.get("/acl")
async def get_acl(request: Request, user: CurrentUser, urn: Urn) -> dict[str, Any]:
    """A folder's own ACL, the one that applies to it (`inherited_from`) and the caller's access."""
    return await storage(request).acls.get(user, urn)


@router.put("/acl")
async def put_acl(request: Request, user: CurrentUser, body: AclIn) -> dict[str, Any]:
    """Replace a folder's ACL (its owner, the owner of the folder whose ACL applies, or an admin)."""
    return await storage(request).acls.put(user, body.urn, body.entries)


Person = Annotated[str, Path(pattern=ID_PATTERN)]


@router.get("/quotas/{person}")
async def get_quota(request: Request, user: CurrentUser, person: Person) -> dict[str, Any]:
    """A person's quota and usage (their own, or anyone's for an admin)."""
    return await storage(request).acls.quota(user, person)


@router.put("/quotas/{person}")
async def put_quota(request: Request, user: CurrentUser, person: Person, body: QuotaIn) -> dict[str, Any]:
    """An admin sets one person's quota beside the default (`WEBOS_STORAGE_USER_QUOTA_BYTES`)."""
    return await storage(request).acls.set_quota(user, person, body.bytes)
