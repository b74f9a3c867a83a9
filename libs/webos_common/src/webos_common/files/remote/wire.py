"""The remote DataSource's wire form: subjects, metadata and errors as JSON.

Subjects (all under `webos.afs.<module>`):

* `…q.<source>.<op>` — stateless operations (`list`, `stat`, `read`, `delete`,
  `move`, `mkdir`, `write`), answered by any replica of the module host (one
  queue group);
* `…s.<instance>.<session>` — the chunks of one upload, pinned to the
  replica that opened it (a write is a stream into one `write_file` call).

A request's arguments travel as JSON in the `Webos-Args` header, bytes as the
payload; an error answer carries `Webos-Error` and the error as JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from webos_common.files.afs import Capabilities, FileExists, FileMetadata, FileMissing, PathRejected
from webos_common.http import errors
from webos_common.modules.manifest import DataSourceEntry
from webos_common.security.nats_permissions import AFS_PREFIX as PREFIX

CHUNK = 256 * 1024  # bytes per message: far below NATS's 1 MiB default max_payload
ARGS, ERROR = "Webos-Args", "Webos-Error"
OPS = ("list", "stat", "read", "delete", "move", "mkdir", "write")


def subject_prefix(module: str) -> str:
    return f"{PREFIX}.{module}"


def op_subject(module: str, source: str, op: str) -> str:
    return f"{PREFIX}.{module}.q.{source}.{op}"


def session_subject(module: str, instance: str, session: str) -> str:
    return f"{PREFIX}.{module}.s.{instance}.{session}"


def entry(source_id: str, caps: Capabilities) -> DataSourceEntry:
    """What a manifest says of one source."""
    return DataSourceEntry(id=source_id, capabilities=asdict(caps))


def capabilities(announced: DataSourceEntry) -> Capabilities:
    known = {k: v for k, v in announced.capabilities.items() if k in Capabilities.__dataclass_fields__}
    return Capabilities(**known)


def meta_to_json(meta: FileMetadata) -> dict[str, Any]:
    body = asdict(meta)
    body["modified"] = meta.modified.isoformat() if meta.modified else None
    return body


def meta_from_json(body: dict[str, Any]) -> FileMetadata:
    modified = body.get("modified")
    return FileMetadata(path=str(body["path"]), name=str(body["name"]), is_dir=bool(body["is_dir"]),
                        size=int(body.get("size") or 0),
                        modified=datetime.fromisoformat(modified) if modified else None,
                        etag=body.get("etag"), content_type=body.get("content_type"))


class RemoteSourceFailed(errors.WebOSError):
    """The module's data source failed in a way it did not explain (its bug): a 502."""

    status, code = 502, "data_source_failed"


_BY_CODE: dict[str, type[errors.WebOSError]] = {
    FileMissing.code: FileMissing, FileExists.code: FileExists, PathRejected.code: PathRejected}
_BY_STATUS: dict[int, type[errors.WebOSError]] = {
    400: errors.BadRequest, 403: errors.Forbidden, 404: errors.NotFound, 409: errors.Conflict,
    413: errors.PayloadTooLarge, 422: errors.ValidationFailed, 503: errors.Unavailable}


def error_to_wire(exc: BaseException) -> bytes:
    if isinstance(exc, errors.WebOSError):
        body = {"status": exc.status, "code": exc.code, "message": exc.message, "details": exc.details}
    else:
        body = {"status": 502, "code": RemoteSourceFailed.code, "message": f"{type(exc).__name__}", "details": None}
    return json.dumps(body, default=str).encode()


def error_from_wire(raw: bytes) -> errors.WebOSError:
    try:
        body = json.loads(raw)
        status, code = int(body.get("status", 502)), str(body.get("code", RemoteSourceFailed.code))
        message, details = str(body.get("message", "")), body.get("details")
    except (ValueError, TypeError, AttributeError):
        return RemoteSourceFailed("The data source answered with an unreadable error")
    kind = _BY_CODE.get(code) or _BY_STATUS.get(status) or RemoteSourceFailed
    return kind(message, details=details, code=code)
