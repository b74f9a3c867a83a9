"""Use cases of the AFS: list, stat, mkdir, upload, open, delete/restore,
tags, search, shares. Moves and copies live in `transfer.py`.

Every change goes through here, so the index and the events stay in step
with the sources.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from webos_common.files.afs import ByteStream, FileExists, FileMetadata, FileMissing, Urn, basename, join, parent
from webos_common.http.errors import BadRequest, InsufficientStorage, NotFound
from webos_common.identity import User
from webos_storage.access import Access, Target
from webos_storage.domain.acl import Level
from webos_storage.domain.model import IndexEntry, TrashItem, now
from webos_storage.ports import EventBus, FileIndex, QuotaStore, TrashStore
from webos_storage.rights import Rights
from webos_storage.shares import ShareSigner
from webos_storage.views import item_view

TRASH = ".webos-trash"


@dataclass
class Download:
    meta: FileMetadata
    entry: IndexEntry | None
    stream: ByteStream


# Bytes hashed per hop to the worker thread. Each hop costs the event loop more than its
# submit: while the worker runs it takes the GIL back after every `update`, and on a busy
# machine each time the loop loses the GIL it waits for a CPU again. 4 MiB hops (against
# 1 MiB) cut the loop's CPU per uploaded MB by ~15 % (bench/storage.py, FTP up); at most
# two groups (8 MiB) of a body are held, beside the 64 MB that the RSS tests allow.
HASH_GROUP = 4 * 1024 * 1024


def _hash_all(digest: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        digest.update(chunk)


class HashingStream:
    """Wrap a byte stream, counting and hashing what passes through.

    SHA-256 costs about as much CPU as the rest of an upload's path, so it
    runs in a worker thread `HASH_GROUP` bytes at a time (hashlib lets go of
    the GIL), beside the event loop moving the next bytes; one group is hashed
    at a time, in order. `digest` is complete once the stream is exhausted."""

    def __init__(self, chunks: ByteStream, *, room: int | None = None) -> None:
        self.chunks, self.size, self.digest = chunks, 0, hashlib.sha256()
        self.room = room  # bytes the owner's quota still allows; None: no quota

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        group: list[bytes] = []
        held, hashing = 0, None
        async for chunk in self.chunks:
            self.size += len(chunk)
            if self.room is not None and self.size > self.room:  # the source drops its partial write
                raise InsufficientStorage("The upload exceeds the owner's storage quota "
                                          "(WEBOS_STORAGE_USER_QUOTA_BYTES or the person's own, PUT /quotas)",
                                          details={"field": "quota", "room": max(self.room, 0)})
            chunk = chunk if isinstance(chunk, bytes) else bytes(chunk)  # hashed later: it must not change
            group.append(chunk)
            held += len(chunk)
            if held >= HASH_GROUP:
                if hashing is not None:
                    await hashing
                hashing = loop.run_in_executor(None, _hash_all, self.digest, group)
                group, held = [], 0
            yield chunk
        if hashing is not None:
            await hashing
        _hash_all(self.digest, group)


class StorageService:
    def __init__(self, *, access: Access, index: FileIndex, trash: TrashStore, bus: EventBus,
                 signer: ShareSigner, share_max_seconds: int, user_quota: int = 0,
                 quotas: QuotaStore | None = None) -> None:
        self.access, self.index, self.trash, self.bus = access, index, trash, bus
        self.rights = Rights(access, index)
        self.signer, self.share_max_seconds = signer, share_max_seconds
        self.user_quota = user_quota  # bytes a person may own across sources; 0: no quota
        self.quotas = quotas  # a person's own quota, set by an admin, instead of `user_quota`

    async def target(self, user: User, urn: str, *, need: Level) -> Target:
        """Where `urn` points, once the permissions and the folder ACLs allow `need` there."""
        target = self.access.resolve(urn)
        self.access.check(user, target.urn, write=need >= Level.WRITE)
        await self.rights.require(user, target.urn, need)
        return target

    async def readable(self, user: User, urns: list[Urn]) -> set[Urn]:
        """Those of `urns` that `user` may read (the permissions and the ACLs)."""
        levels = await self.rights.levels(user, urns)
        return {u for u in urns if levels[u] >= Level.READ and self._permitted(user, u)}

    def _permitted(self, user: User, urn: Urn) -> bool:
        try:
            self.access.check(user, urn, write=False)
        except Exception:  # noqa: BLE001 - not readable, whatever the reason
            return False
        return True

    async def list_dir(self, user: User, urn: str, *, skip: int, limit: int) -> dict[str, Any]:
        target = await self.target(user, urn, need=Level.READ)
        if target.urn == self.access.home_of(user):  # a home exists from its first look
            await target.source.mkdir(target.urn.path)
        children = await target.source.list_dir(target.urn.path)
        seen = await self.readable(user, [Urn(target.urn.source, m.path) for m in children])
        entries = [m for m in children if Urn(target.urn.source, m.path) in seen]
        page = entries[skip: skip + limit]
        known = await self.index.get_many([str(Urn(target.urn.source, m.path)) for m in page])
        items = [item_view(target.urn.source, m, known.get(str(Urn(target.urn.source, m.path)))) for m in page]
        return {"items": items, "total": len(entries), "skip": skip, "limit": limit,
                "has_more": skip + len(page) < len(entries)}

    async def stat(self, user: User, urn: str) -> dict[str, Any]:
        target = await self.target(user, urn, need=Level.READ)
        meta = await target.source.get_stat(target.urn.path)
        return item_view(target.urn.source, meta, await self.index.get(str(target.urn)))

    async def mkdir(self, user: User, urn: str) -> dict[str, Any]:
        """Make a folder, and index it (owner, tags, search by name)."""
        target = await self.target(user, urn, need=Level.WRITE)
        await target.source.mkdir(target.urn.path)
        meta = await target.source.get_stat(target.urn.path)
        entry = await self.index.get(str(target.urn))
        if entry is None and target.urn.path:
            entry, made = await self.index.add(folder_entry(target.urn, owner=user.id))  # two at once: first owns it
            if made:
                await self._emit("file:created", entry, user)
        return item_view(target.urn.source, meta, entry)

    async def upload(self, user: User, urn: str, chunks: ByteStream, *, content_type: str | None) -> dict[str, Any]:
        target = await self.target(user, urn, need=Level.WRITE)
        if not target.urn.path:
            raise BadRequest("Cannot upload onto a source's root", details={"field": "urn"})
        await self._no_file_above(target)
        before = await self.index.get(str(target.urn))
        existed = before is not None or await _exists(target)
        hashed = HashingStream(chunks, room=await self.room((before.owner if before else None) or user.id, before))
        meta = await target.source.write_file(target.urn.path, hashed.__aiter__(), content_type=content_type)
        entry = IndexEntry(
            urn=str(target.urn), source=target.urn.source, path=target.urn.path, name=basename(target.urn.path),
            size=hashed.size, sha256=hashed.digest.hexdigest(), content_type=meta.content_type,
            owner=before.owner if before else user.id, tags=before.tags if before else [],
            created=before.created if before else now())
        await self.index.put(entry)
        await self._emit("file:updated" if existed else "file:created", entry, user)
        return item_view(target.urn.source, meta, entry)

    async def room(self, owner: str, replaced: IndexEntry | None) -> int | None:
        """What `owner`'s quota still allows (the file being replaced no longer counts)."""
        quota = await self.quota_of(owner)
        if not quota:
            return None
        used = await self.index.usage(owner)
        return quota - used + (replaced.size if replaced is not None else 0)

    async def quota_of(self, owner: str) -> int:
        """Bytes `owner` may own: their own quota when an admin set one, else the default."""
        own = await self.quotas.get(owner) if self.quotas is not None else None
        return self.user_quota if own is None else own

    async def _no_file_above(self, target: Target) -> None:
        folder = parent(target.urn.path)
        while folder:
            try:
                meta = await target.source.get_stat(folder)
            except FileMissing:
                folder = parent(folder)
                continue
            if not meta.is_dir:
                raise FileExists(f"A file is in the way: {folder}", details={"path": folder})
            return

    async def open(self, user: User, urn: str, *, offset: int = 0, length: int | None = None) -> Download:
        return await self._open(await self.target(user, urn, need=Level.READ), offset=offset, length=length)

    async def stat_for_read(self, user: User, urn: str) -> tuple[Target, FileMetadata, IndexEntry | None]:
        target = await self.target(user, urn, need=Level.READ)
        meta = await target.source.get_stat(target.urn.path)
        if meta.is_dir:
            raise BadRequest(f"{target.urn} is a folder", details={"field": "urn"})
        return target, meta, await self.index.get(str(target.urn))

    async def _open(self, target: Target, *, offset: int, length: int | None) -> Download:
        meta = await target.source.get_stat(target.urn.path)
        if meta.is_dir:
            raise BadRequest(f"{target.urn} is a folder", details={"field": "urn"})
        stream = target.source.open_file(target.urn.path, offset=offset, length=length)
        return Download(meta, await self.index.get(str(target.urn)), stream)

    async def delete(self, user: User, urn: str) -> dict[str, Any]:
        target = await self.target(user, urn, need=Level.MANAGE)
        if not target.urn.path:
            raise BadRequest("Cannot delete a source's root", details={"field": "urn"})
        meta = await target.source.get_stat(target.urn.path)
        item_id = uuid.uuid4().hex
        trash_path = join(f"{TRASH}/{item_id}", meta.name)
        await target.source.move(target.urn.path, trash_path)
        entries = await self.index.remove_tree(target.urn.source, target.urn.path)
        item = TrashItem(id=item_id, urn=str(target.urn), trash_path=trash_path, is_dir=meta.is_dir,
                         deleted_by=user.id, deleted_at=now(), entries=[e.__dict__ for e in entries],
                         owners=sorted({e.owner for e in entries if e.owner}))
        await self.trash.add(item)
        await self.bus.emit("file:deleted", {"urn": str(target.urn), "is_dir": meta.is_dir,
                                             "trash_id": item_id, "by": user.id})
        return {"trash_id": item_id, "urn": str(target.urn)}

    async def list_trash(self, user: User) -> list[dict[str, Any]]:
        items = await self.trash.list(visible_to=None if user.is_admin else user.id)
        return [{"id": i.id, "urn": i.urn, "is_dir": i.is_dir, "deleted_by": i.deleted_by,
                 "deleted_at": i.deleted_at.isoformat()} for i in items]

    async def _trash_item(self, user: User, item_id: str) -> TrashItem:
        """A trash item the caller may restore or purge: an admin, who deleted it, or who owned it."""
        item = await self.trash.get(item_id)
        if item is None or not (user.is_admin or item.deleted_by == user.id or user.id in item.owners):
            raise FileMissing(f"No trash item {item_id}", details={"trash_id": item_id})
        return item

    async def restore(self, user: User, item_id: str) -> dict[str, Any]:
        item = await self._trash_item(user, item_id)
        # who owned what was deleted takes it back wherever it was; anyone else needs write there
        if user.is_admin or user.id in item.owners:
            target = self.access.resolve(item.urn)
            self.access.check(user, target.urn, write=True)
        else:
            target = await self.target(user, item.urn, need=Level.WRITE)
        if await _exists(target):
            raise FileExists(f"Something is already at {item.urn}", details={"urn": item.urn})
        await target.source.move(item.trash_path, target.urn.path)
        with contextlib.suppress(FileMissing):  # the item's now empty trash folder (local disk keeps it)
            await target.source.delete(parent(item.trash_path))
        for raw in item.entries:
            await self.index.put(IndexEntry(**raw))
        await self.trash.remove(item_id)
        await self.bus.emit("file:created", {"urn": item.urn, "restored": True, "by": user.id})
        return await self.stat(user, item.urn)

    async def purge(self, user: User, item_id: str) -> None:
        """Delete a trash item for good."""
        item = await self._trash_item(user, item_id)
        target = self.access.resolve(item.urn)
        try:
            await target.source.delete(parent(item.trash_path))
        except FileMissing:
            pass
        await self.trash.remove(item_id)

    async def set_tags(self, user: User, urn: str, tags: list[str]) -> dict[str, Any]:
        target = await self.target(user, urn, need=Level.WRITE)
        entry = await self.index.set_tags(str(target.urn), sorted(set(tags)))
        if entry is None and target.urn.path and (await target.source.get_stat(target.urn.path)).is_dir:
            # a folder an upload made on the way: indexed from its first tag
            await self.index.put(folder_entry(target.urn, owner=user.id))
            entry = await self.index.set_tags(str(target.urn), sorted(set(tags)))
        if entry is None:
            raise FileMissing(f"{target.urn} is not in the index", details={"urn": str(target.urn)})
        await self._emit("file:updated", entry, user)
        return await self.stat(user, urn)

    async def search(self, user: User, *, name: str | None, tag: str | None, owner: str | None,
                     skip: int, limit: int) -> dict[str, Any]:
        entries, _ = await self.index.search(name=name, tag=tag, owner=owner, skip=0, limit=10_000)
        seen = await self.readable(user, [Urn(e.source, e.path) for e in entries])
        visible = [e for e in entries if Urn(e.source, e.path) in seen]
        page = visible[skip: skip + limit]
        items = [item_view(e.source, FileMetadata(path=e.path, name=e.name, is_dir=e.is_dir, size=e.size,
                                                  modified=e.modified, content_type=e.content_type), e)
                 for e in page]
        return {"items": items, "total": len(visible), "skip": skip, "limit": limit,
                "has_more": skip + len(page) < len(visible)}

    async def share(self, user: User, urn: str, *, expires_in: int) -> dict[str, Any]:
        if not 0 < expires_in <= self.share_max_seconds:
            raise BadRequest(f"expires_in must be 1..{self.share_max_seconds}", details={"field": "expires_in"})
        target, _, _ = await self.stat_for_read(user, urn)
        expires_at = int(time.time()) + expires_in
        return {"urn": str(target.urn), "token": self.signer.sign(str(target.urn), expires_at),
                "expires_at": expires_at}

    async def shared_target(self, token: str) -> Target:
        """The file a share link opens. A link made before an ACL change on a folder above
        the file no longer opens: whoever shared it may have lost read access, and a
        link must never outlive the right it was made with."""
        urn, made_at = self.signer.verify(token)
        target = self.access.resolve(urn)
        if not self.access.in_homes(target.urn):
            _, folders = await self.rights.path(target.urn)
            if any((f.acl_changed or 0) > made_at for f in folders):
                raise NotFound("Share link was revoked by a change of access", code="share_not_found")
        return target

    async def _emit(self, topic: str, entry: IndexEntry, user: User) -> None:
        await self.bus.emit(topic, {"urn": entry.urn, "size": entry.size, "sha256": entry.sha256,
                                    "content_type": entry.content_type, "owner": entry.owner,
                                    "tags": entry.tags, "is_dir": entry.is_dir, "by": user.id})


def folder_entry(urn: Urn, *, owner: str) -> IndexEntry:
    return IndexEntry(urn=str(urn), source=urn.source, path=urn.path, name=basename(urn.path), size=0,
                      sha256=None, content_type=None, owner=owner, is_dir=True)


async def _exists(target: Target) -> bool:
    try:
        await target.source.get_stat(target.urn.path)
    except FileMissing:
        return False
    return True
