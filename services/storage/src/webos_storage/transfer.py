"""Move and copy, within a source and across sources.

A move inside one source is the source's own rename. Anything else streams
the bytes (hashing them on the way); when more than `background_bytes` must
travel, it runs as a background job whose progress the API reports and the
bus announces (`task:progress`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from loguru import logger

from webos_common.files.afs import FileExists, FileMissing, Urn, basename, is_within, join
from webos_common.http.errors import BadRequest, InsufficientStorage
from webos_common.identity import User
from webos_storage.access import Target
from webos_storage.domain.acl import Level
from webos_storage.domain.model import IndexEntry, Job, now
from webos_storage.jobs import JobRunner, Progress
from webos_storage.service import HashingStream, StorageService


class Transfers:
    def __init__(self, service: StorageService, jobs: JobRunner, *, background_bytes: int) -> None:
        self.service, self.jobs, self.background_bytes = service, jobs, background_bytes

    async def transfer(self, user: User, src: str, dst: str, *, keep_source: bool) -> dict[str, Any]:
        """Move (or copy, with `keep_source`); returns `{"job": …}` and whether it runs in the background."""
        # a copy reads; a move takes the item away, which is its owner's or an admin's (domain/acl.py)
        source = await self.service.target(user, src, need=Level.READ if keep_source else Level.MANAGE)
        target = await self.service.target(user, dst, need=Level.WRITE)
        if not source.urn.path or not target.urn.path:
            raise BadRequest("Cannot move or copy a source's root", details={"field": "src"})
        if source.urn.source == target.urn.source and is_within(target.urn.path, source.urn.path):
            raise BadRequest("Cannot move or copy a folder into itself", details={"field": "dst"})
        try:
            await target.source.get_stat(target.urn.path)
            raise FileExists(f"Already exists: {target.urn}", details={"urn": str(target.urn)})
        except FileMissing:
            pass
        files = await self._walk(user, source, source.urn.path, readable_only=keep_source)
        kind = "copy" if keep_source else "move"
        job = Job(kind=kind, src=str(source.urn), dst=str(target.urn), owner=user.id,
                  bytes_total=sum(size for _, size in files))
        if keep_source:  # a copy that cannot fit is refused before a byte travels
            room = await self.service.room(user.id, None)
            if room is not None and job.bytes_total > room:
                raise InsufficientStorage(f"The copy ({job.bytes_total} bytes) exceeds your storage quota",
                                          details={"field": "quota", "room": max(room, 0)})

        if not keep_source and source.urn.source == target.urn.source:
            return {"job": (await self.jobs.run_inline(job, lambda p: self._rename(user, source, target, p))).to_dict(),
                    "background": False}

        async def work(progress: Progress) -> None:
            await self._stream_all(user, source, target, files, progress, keep_source=keep_source)

        if job.bytes_total > self.background_bytes:
            return {"job": (await self.jobs.start(job, work)).to_dict(), "background": True}
        return {"job": (await self.jobs.run_inline(job, work)).to_dict(), "background": False}

    async def _walk(self, user: User, target: Target, path: str, *, readable_only: bool) -> list[tuple[str, int]]:
        """Every file under `path` that `user` may see (a copy of `home/` holds only their own; a
        copy leaves out what folder ACLs hide from them, a move takes the whole folder)."""
        meta = await target.source.get_stat(path)
        if not meta.is_dir:
            return [(path, meta.size)]
        children = [c for c in await target.source.list_dir(path)
                    if self.service.access.can_see(user, Urn(target.urn.source, c.path))]
        if readable_only:
            seen = await self.service.readable(user, [Urn(target.urn.source, c.path) for c in children])
            children = [c for c in children if Urn(target.urn.source, c.path) in seen]
        out: list[tuple[str, int]] = []
        for child in children:
            out += (await self._walk(user, target, child.path, readable_only=readable_only) if child.is_dir
                    else [(child.path, child.size)])
        return out

    async def _rename(self, user: User, source: Target, target: Target, progress: Progress) -> None:
        await source.source.move(source.urn.path, target.urn.path)
        await self.service.index.move_tree(source.urn.source, source.urn.path, target.urn.source, target.urn.path)
        await progress(sum(e.size for e in await self.service.index.all_in(target.urn.source, target.urn.path)))
        await self.service.bus.emit("file:moved", {"from": str(source.urn), "to": str(target.urn), "by": user.id})

    async def _stream_all(self, user: User, source: Target, target: Target, files: list[tuple[str, int]],
                          progress: Progress, *, keep_source: bool) -> None:
        meta = await source.source.get_stat(source.urn.path)
        written: list[Urn] = []
        try:
            if meta.is_dir:
                await target.source.mkdir(target.urn.path)
            done = 0
            for path, _ in files:
                rest = path[len(source.urn.path):].lstrip("/")
                dst = Urn(target.urn.source, join(target.urn.path, rest))
                done = await self._copy_one(user, Urn(source.urn.source, path), source, dst, target, done, progress,
                                            keep_source=keep_source)
                written.append(dst)
            await progress(done)
            await self._copy_folder_entries(user, source, target, keep_source=keep_source)
        except BaseException:
            await self._undo(target, written, created_dir=meta.is_dir)
            raise
        if keep_source:
            await self.service.bus.emit("file:created", {"urn": str(target.urn), "copied_from": str(source.urn),
                                                         "by": user.id})
            return
        await source.source.delete(source.urn.path)
        await self.service.index.remove_tree(source.urn.source, source.urn.path)
        await self.service.bus.emit("file:moved", {"from": str(source.urn), "to": str(target.urn), "by": user.id})

    async def _copy_folder_entries(self, user: User, source: Target, target: Target, *, keep_source: bool) -> None:
        """The indexed folders of the tree, at their new place (a copy's belong to its maker)."""
        index = self.service.index
        folders = [e for e in await index.all_in(source.urn.source, source.urn.path) if e.is_dir]
        if keep_source:  # not those the copy left out
            seen = await self.service.readable(user, [Urn(e.source, e.path) for e in folders])
            folders = [e for e in folders if Urn(e.source, e.path) in seen]
        for old in folders:
            rest = old.path[len(source.urn.path):].lstrip("/")
            dst = Urn(target.urn.source, join(target.urn.path, rest))
            entry = dataclasses.replace(old, urn=str(dst), source=dst.source, path=dst.path, name=basename(dst.path),
                                        modified=now(), tags=list(old.tags))
            if keep_source:
                entry.owner, entry.created = user.id, now()
            await index.put(entry)

    async def _undo(self, target: Target, written: list[Urn], *, created_dir: bool) -> None:
        """A failed transfer takes back what it wrote: the source is untouched, the target as before."""
        try:
            if created_dir:
                await target.source.delete(target.urn.path)
            else:
                for urn in written:
                    await target.source.delete(urn.path)
        except FileMissing:
            pass
        except Exception:  # noqa: BLE001 - the original error matters more
            logger.exception("could not undo a failed transfer to {}", target.urn)
        await self.service.index.remove_tree(target.urn.source, target.urn.path)

    async def _copy_one(self, user: User, src: Urn, source: Target, dst: Urn, target: Target,
                        done: int, progress: Progress, *, keep_source: bool) -> int:
        start = done

        async def counted() -> Any:
            nonlocal done
            async for chunk in source.source.open_file(src.path):
                done += len(chunk)
                await progress(done)
                yield chunk

        old = await self.service.index.get(str(src))
        moved_owner = old.owner if old is not None and not keep_source else None
        # the bytes count against who will own them (a move's owner no longer has them at the source)
        room = await self.service.room(moved_owner or user.id, old if moved_owner else None)
        hashed = HashingStream(counted(), room=room)
        meta = await target.source.write_file(dst.path, hashed.__aiter__(),
                                              content_type=old.content_type if old else None)
        base = old or IndexEntry(urn="", source="", path="", name="", size=0, sha256=None,
                                 content_type=meta.content_type, owner=user.id)
        entry = dataclasses.replace(base, urn=str(dst), source=dst.source, path=dst.path, name=meta.name,
                                    size=hashed.size, sha256=hashed.digest.hexdigest(), modified=now(),
                                    tags=list(base.tags))
        if keep_source or old is None:  # a copy belongs to whoever made it
            entry.owner, entry.created = user.id, now()
        await self.service.index.put(entry)
        return start + hashed.size
