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

from webos_common.afs import FileExists, FileMissing, Urn, basename, is_within, join
from webos_common.errors import BadRequest
from webos_common.identity import User
from webos_storage.access import Target
from webos_storage.domain.model import IndexEntry, Job, now
from webos_storage.jobs import JobRunner, Progress
from webos_storage.service import HashingStream, StorageService


class Transfers:
    def __init__(self, service: StorageService, jobs: JobRunner, *, background_bytes: int) -> None:
        self.service, self.jobs, self.background_bytes = service, jobs, background_bytes

    async def transfer(self, user: User, src: str, dst: str, *, keep_source: bool) -> dict[str, Any]:
        """Move (or copy, with `keep_source`); returns `{"job": …}` and whether it runs in the background."""
        source = self.service.target(user, src, write=not keep_source)
        target = self.service.target(user, dst, write=True)
        if not source.urn.path or not target.urn.path:
            raise BadRequest("Cannot move or copy a source's root", details={"field": "src"})
        if source.urn.source == target.urn.source and is_within(target.urn.path, source.urn.path):
            raise BadRequest("Cannot move or copy a folder into itself", details={"field": "dst"})
        try:
            await target.source.get_stat(target.urn.path)
            raise FileExists(f"Already exists: {target.urn}", details={"urn": str(target.urn)})
        except FileMissing:
            pass
        files = await self._walk(user, source, source.urn.path)
        kind = "copy" if keep_source else "move"
        job = Job(kind=kind, src=str(source.urn), dst=str(target.urn), owner=user.id,
                  bytes_total=sum(size for _, size in files))

        if not keep_source and source.urn.source == target.urn.source:
            return {"job": (await self.jobs.run_inline(job, lambda p: self._rename(user, source, target, p))).to_dict(),
                    "background": False}

        async def work(progress: Progress) -> None:
            await self._stream_all(user, source, target, files, progress, keep_source=keep_source)

        if job.bytes_total > self.background_bytes:
            return {"job": self.jobs.start(job, work).to_dict(), "background": True}
        return {"job": (await self.jobs.run_inline(job, work)).to_dict(), "background": False}

    async def _walk(self, user: User, target: Target, path: str) -> list[tuple[str, int]]:
        """Every file under `path` that `user` may see (a copy of `home/` holds only their own)."""
        meta = await target.source.get_stat(path)
        if not meta.is_dir:
            return [(path, meta.size)]
        out: list[tuple[str, int]] = []
        for child in await target.source.list_dir(path):
            if not self.service.access.can_see(user, Urn(target.urn.source, child.path)):
                continue
            out += await self._walk(user, target, child.path) if child.is_dir else [(child.path, child.size)]
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
        for old in await index.all_in(source.urn.source, source.urn.path):
            if not old.is_dir:
                continue
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
        hashed = HashingStream(counted())
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
