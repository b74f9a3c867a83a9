"""The ports the service uses, named by role; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from webos_common.files.afs import DataSource
from webos_storage.domain.model import IndexEntry, Job, TrashItem

__all__ = ["DataSource", "EventBus", "FileIndex", "JobStore", "QuotaStore", "TrashStore"]


class FileIndex(Protocol):
    async def get(self, urn: str) -> IndexEntry | None: ...
    async def get_many(self, urns: Sequence[str]) -> dict[str, IndexEntry]: ...
    async def put(self, entry: IndexEntry) -> None: ...
    async def remove_tree(self, source: str, path: str) -> list[IndexEntry]:
        """Drop the entry at `path` and every entry below it; return them."""
        ...
    async def move_tree(self, src_source: str, src_path: str, dst_source: str, dst_path: str) -> None: ...
    async def set_tags(self, urn: str, tags: list[str]) -> IndexEntry | None: ...
    async def set_acl(self, entry: IndexEntry, acl: list[dict[str, str]] | None) -> IndexEntry:
        """Set the ACL of `entry.urn` alone (its other fields untouched), indexing `entry` first
        if the folder is not yet; an entry with no owner gets `entry.owner`."""
        ...
    async def add(self, entry: IndexEntry) -> tuple[IndexEntry, bool]:
        """Index `entry` unless its URN is already (the first one wins): the entry indexed now,
        and whether it is this one."""
        ...
    async def search(self, *, name: str | None, tag: str | None, owner: str | None,
                     skip: int, limit: int) -> tuple[list[IndexEntry], int]: ...
    async def all_in(self, source: str, path: str) -> list[IndexEntry]: ...
    async def usage(self, owner: str) -> int:
        """Bytes of the files `owner` owns, in every source."""


class TrashStore(Protocol):
    async def add(self, item: TrashItem) -> None: ...
    async def get(self, item_id: str) -> TrashItem | None: ...
    async def remove(self, item_id: str) -> None: ...
    async def list(self, *, visible_to: str | None) -> list[TrashItem]:
        """Everything (None), or what `visible_to` deleted or owned."""


class QuotaStore(Protocol):
    """The quotas an admin set for single persons (beside the default for everyone)."""

    async def get(self, person: str) -> int | None: ...
    async def set(self, person: str, limit: int | None) -> None:
        """`limit` bytes (0: none), or None: back to the default."""


class EventBus(Protocol):
    async def emit(self, topic: str, payload: dict[str, Any]) -> None: ...


class JobStore(Protocol):
    """Where transfer jobs are kept, so that every replica answers for every job."""

    async def save(self, job: Job) -> None: ...
    async def get(self, job_id: str) -> Job | None: ...
