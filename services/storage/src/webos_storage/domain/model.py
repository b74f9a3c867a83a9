"""The storage domain: index entries, mounts, trash items, transfer jobs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from webos_common.files.afs import Urn, is_within, join


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class IndexEntry:
    """One file, or one folder made through the API (`is_dir`), as the metadata index
    knows it: owner, tags and timestamps that the data source cannot keep. Folders that
    uploads create on the way are not indexed until tagged or moved."""

    urn: str
    source: str
    path: str
    name: str
    size: int
    sha256: str | None
    content_type: str | None
    owner: str | None
    created: datetime = field(default_factory=now)
    modified: datetime = field(default_factory=now)
    tags: list[str] = field(default_factory=list)
    is_dir: bool = False
    # a folder's ACL (`{"kind": "user"|"role", "id", "access": "read"|"write"}`, see `domain/acl.py`);
    # None: the folder has none and inherits its parent's
    acl: list[dict[str, str]] | None = None
    # when the ACL was last set or removed (seconds since the epoch): share links made
    # under the folder before then no longer open (`StorageService.shared_target`)
    acl_changed: float | None = None


@dataclass(frozen=True)
class Mount:
    """`/mnt/<name>` shows `target` (a folder URN), guarded by permissions; `default_access`
    is what holders of them may do where no folder ACL applies (`domain/acl.py`)."""

    name: str
    target: Urn
    read_permission: str | None = None
    write_permission: str | None = None
    default_access: str = "full"

    def covers(self, location: Urn) -> bool:
        return location.source == self.target.source and is_within(location.path, self.target.path)

    def resolve(self, path: str) -> Urn:
        return Urn(self.target.source, join(self.target.path, path))


@dataclass(frozen=True)
class SourceRules:
    read_permission: str | None = None
    write_permission: str | None = None
    default_access: str = "full"


@dataclass
class TrashItem:
    id: str
    urn: str
    trash_path: str
    is_dir: bool
    deleted_by: str | None
    deleted_at: datetime
    entries: list[dict[str, Any]]  # index entries to put back on restore
    owners: list[str] = field(default_factory=list)  # who owned what was deleted: they may restore it


@dataclass
class Job:
    """A background transfer (cross-source move or copy) with its progress."""

    kind: str
    src: str
    dst: str
    owner: str | None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = "queued"  # queued | running | succeeded | failed (webos_common.tasks' names)
    bytes_total: int = 0
    bytes_done: int = 0
    progress: list[int] = field(default_factory=list)  # percents reported, in order
    error: str | None = None
    created: datetime = field(default_factory=now)
    finished: datetime | None = None
    updated: datetime = field(default_factory=now)  # last saved by the replica running it

    @property
    def percent(self) -> int:
        return 100 if not self.bytes_total else int(self.bytes_done * 100 / self.bytes_total)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "src": self.src, "dst": self.dst, "state": self.state,
            "bytes_total": self.bytes_total, "bytes_done": self.bytes_done, "percent": self.percent,
            "progress": list(self.progress), "error": self.error,
            "created": self.created.isoformat(), "finished": self.finished.isoformat() if self.finished else None,
        }
