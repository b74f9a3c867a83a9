"""Import and export routes the host generates for each collection it announces
(`CollectionSpec`), beside the module's own (`<endpoint>` is `/api/<module><path>`):

| route | what it does |
|---|---|
| `POST <endpoint>/import/preview` | the file's columns, the mapping guessed by name, the fields, the first rows |
| `POST <endpoint>/import/dry-run` | every row checked with the create model: per-row errors, nothing written |
| `POST <endpoint>/import` | 202 and a task id: the valid rows created in the background, bad ones reported |
| `GET <endpoint>/export` | the whole filtered list as CSV or Excel, streamed (`format`, `fields`, the list's filters) |
| `POST <endpoint>/export` | 202 and a task id: the same written to the person's `Exports/` folder in storage |

Both exports ask the list for one row first, with the export's own `fields` and filters: one it
refuses is its 422 naming the parameter, at once, before any byte is streamed or any job started.

Uploads are multipart: `file` (.csv or .xlsx) and `mapping` (JSON: file column -> field;
guessed by name when left out).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from webos_common.clients.storage import StorageClient
from webos_common.documents import EventPublisher
from webos_common.http.errors import Unavailable
from webos_common.http.service import ServiceResources
from webos_common.identity import User
from webos_common.modules.hooks import CollectionSpec
from webos_common.security import current_user, require_permission
from webos_modulehost.transfer import exporting, importing, jobs
from webos_modulehost.transfer.loopback import Loopback
from webos_modulehost.transfer.rows import check, check_mapping, guess_mapping
from webos_modulehost.transfer.tables import MEDIA_TYPES, Table, bad_file, file_format, read_table

Format = Annotated[str, Query(pattern="^(csv|xlsx)$")]
Fields = Annotated[str | None, Query(max_length=2000)]


def _schema_fields(model: type[BaseModel]) -> list[dict[str, Any]]:
    return [{"name": name, "title": info.title or name.replace("_", " ").capitalize(),
             "required": info.is_required()} for name, info in model.model_fields.items()]


async def _table(file: UploadFile) -> tuple[bytes, Table]:
    data = await file.read()
    return data, read_table(data, file_format(file.filename or ""))


def _mapping(raw: str | None, table: Table, model: type[BaseModel]) -> dict[str, str]:
    if not raw:
        return guess_mapping(table.columns, model)
    try:
        given = json.loads(raw)
    except ValueError as exc:
        raise bad_file("not JSON (give {\"file column\": \"field\"})", "mapping") from exc
    if not isinstance(given, dict) or not all(isinstance(v, str | None) for v in given.values()):
        raise bad_file("give an object of file column -> field name", "mapping")
    return check_mapping({str(k): v or "" for k, v in given.items()}, table.columns, model)


def router_for(spec: CollectionSpec, module: str) -> APIRouter:
    endpoint = f"/api/{module}{spec.path}"
    create = spec.create
    router = APIRouter(prefix=endpoint, tags=[f"{module} import and export"],
                       dependencies=[Depends(current_user)])
    write = [Depends(require_permission(f"{module}.write"))]
    read = [Depends(require_permission(f"{module}.read"))]
    if create is not None:
        _import_routes(router, spec, create, module, write)
    _export_routes(router, spec, endpoint, read)
    return router


def _import_routes(router: APIRouter, spec: CollectionSpec, create: type[BaseModel], module: str,
                   guard: list[Any]) -> None:
    endpoint = f"/api/{module}{spec.path}"

    @router.post("/import/preview", dependencies=guard, summary=f"Read an import file for {spec.label}")
    async def preview(file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        _, table = await _table(file)
        return {"columns": table.columns, "rows": len(table.rows), "sample": table.rows[:5],
                "mapping": guess_mapping(table.columns, create), "fields": _schema_fields(create)}

    @router.post("/import/dry-run", dependencies=guard, summary=f"Check an import into {spec.label}")
    async def dry_run(file: Annotated[UploadFile, File()],
                      mapping: Annotated[str | None, Form()] = None) -> dict[str, Any]:
        _, table = await _table(file)
        used = _mapping(mapping, table, create)
        return {"mapping": used, **check(table, used, create).report()}

    @router.post("/import", dependencies=guard, status_code=status.HTTP_202_ACCEPTED,
                 summary=f"Import a file into {spec.label} in the background")
    async def start_import(request: Request, file: Annotated[UploadFile, File()],
                           user: Annotated[User, Depends(current_user)],
                           mapping: Annotated[str | None, Form()] = None) -> dict[str, Any]:
        data, table = await _table(file)
        used = _mapping(mapping, table, create)
        checked = check(table, used, create)
        key = importing.import_key(data, used)

        async def work() -> dict[str, Any]:
            async with Loopback(request.app, user) as loop:
                return await importing.run(loop, endpoint, checked, key)

        task_id = await jobs.start(f"Import into {spec.label}", work, user=user, events=_events(request),
                                   link=f"/m/{module}", done=importing.summary)
        return {"task_id": task_id, "mapping": used, **checked.report()}


def _export_routes(router: APIRouter, spec: CollectionSpec, endpoint: str, guard: list[Any]) -> None:
    @router.get("/export", dependencies=guard, summary=f"Export {spec.label} (the whole filtered list)",
                response_class=StreamingResponse)
    async def export(request: Request, user: Annotated[User, Depends(current_user)], format: Format = "csv",
                     fields: Fields = None) -> StreamingResponse:
        columns = exporting.columns_of(spec.read, fields)
        loop = Loopback(request.app, user)
        filters = exporting.filters_of(request.query_params)
        try:  # a filter or field the list refuses is its 4xx now, not a stream broken after its 200
            await exporting.probe(loop, endpoint, filters, columns)
        except BaseException:
            await loop.http.aclose()
            raise

        async def body() -> Any:
            try:
                async for chunk in exporting.stream(format, loop, endpoint, filters, columns):
                    yield chunk
            finally:
                await loop.http.aclose()

        name = f"{spec.name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{format}"
        return StreamingResponse(body(), media_type=MEDIA_TYPES[format],
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.post("/export", dependencies=guard, status_code=status.HTTP_202_ACCEPTED,
                 summary=f"Export {spec.label} to one's files in the background")
    async def export_to_files(request: Request, user: Annotated[User, Depends(current_user)],
                              format: Format = "csv", fields: Fields = None) -> dict[str, Any]:
        columns = exporting.columns_of(spec.read, fields)
        filters = exporting.filters_of(request.query_params)
        storage = await _storage(request)  # first: a call to the host's own routes ends the person's credential
        try:
            async with Loopback(request.app, user) as loop:  # refused now (422 naming it), before any job starts
                total = await exporting.probe(loop, endpoint, filters, columns, count=True)
        except BaseException:
            await storage.aclose()
            raise
        home = str((await storage.sources()).get("home") or "").rstrip("/")
        urn = f"{home}/Exports/{spec.name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{format}"

        async def work() -> dict[str, Any]:
            async with Loopback(request.app, user) as loop, storage:
                chunks = exporting.stream(format, loop, endpoint, filters, columns, progress=True, total=total)
                info = await storage.put(urn, chunks, content_type=MEDIA_TYPES[format])
            return {"urn": urn, "rows": total, "size": info.size}

        task_id = await jobs.start(f"Export of {spec.label}", work, user=user, events=_events(request),
                                   link="/files?urn=" + urn.rsplit("/", 1)[0], done=lambda r: f"{total} rows")
        return {"task_id": task_id, "urn": urn, "rows": total}


def _events(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.services.get(EventPublisher)
    return publisher


async def _storage(request: Request) -> StorageClient:
    """Storage as the person: their token exchanged for one to storage (taken now, used by the job)."""
    from webos_common import context

    resources: ServiceResources = request.app.state.resources
    credential = context.credential.get()
    if credential is None:
        raise Unavailable("No credential of the person to write to their files with")
    token = credential
    if resources.credentials is not None:
        token = await resources.credentials.exchange(credential, "storage")
    return StorageClient(resources.settings.storage_url, token=token, timeout=300.0)
