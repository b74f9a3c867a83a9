"""The storage service's events and their registered payload schemas, so
consumers of the bus get validated data:

* `file:created`, `file:updated` — `FileChanged` (`restored` after a trash
  restore, `copied_from` after a copy)
* `file:moved` — `FileMoved` (`from`, `to`)
* `file:deleted` — `FileDeleted` (went to the trash as `trash_id`)
* `file:acl_changed` — `FileAclChanged` (a folder's ACL; `acl` None: dropped, inherited again)
* `storage:quota_changed` — `QuotaChanged` (a person's own quota; `bytes` None: the default again)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from webos_common.bus import register_event

FILE_CREATED, FILE_UPDATED, FILE_MOVED, FILE_DELETED = "file:created", "file:updated", "file:moved", "file:deleted"
FILE_ACL_CHANGED, QUOTA_CHANGED = "file:acl_changed", "storage:quota_changed"


class FileChanged(BaseModel):
    urn: str
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    owner: str | None = None
    tags: list[str] = []
    by: str | None = None
    restored: bool = False
    copied_from: str | None = None


class FileMoved(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    by: str | None = None


class FileDeleted(BaseModel):
    urn: str
    is_dir: bool = False
    trash_id: str | None = None
    by: str | None = None


class FileAclChanged(BaseModel):
    urn: str
    owner: str | None = None
    acl: list[dict[str, str]] | None = None
    by: str | None = None


class QuotaChanged(BaseModel):
    person: str
    bytes: int | None = None
    by: str | None = None


register_event(FILE_CREATED, FileChanged)
register_event(FILE_UPDATED, FileChanged)
register_event(FILE_MOVED, FileMoved)
register_event(FILE_DELETED, FileDeleted)
register_event(FILE_ACL_CHANGED, FileAclChanged)
register_event(QUOTA_CHANGED, QuotaChanged)
