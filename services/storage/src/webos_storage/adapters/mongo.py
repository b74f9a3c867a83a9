"""`MongoFileIndex`, `MongoTrashStore` and `MongoQuotaStore`: the metadata index (folder
ACLs included), the trash records and persons' own quotas in MongoDB (PyMongo's async
client; plain documents keyed by URN)."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from webos_common.files.afs import Urn, basename, join
from webos_storage.domain.model import IndexEntry, Job, TrashItem

_FIELDS = {f.name for f in dataclasses.fields(IndexEntry)}


def _entry(doc: dict[str, Any]) -> IndexEntry:
    return IndexEntry(**{k: v for k, v in doc.items() if k in _FIELDS})


def _under(path: str) -> dict[str, Any]:
    if not path:
        return {}
    return {"$or": [{"path": path}, {"path": {"$regex": f"^{re.escape(path)}/"}}]}


class MongoFileIndex:
    def __init__(self, db: Any, collection: str = "storage_files") -> None:
        self.files = db[collection]

    async def ensure_indexes(self) -> None:
        await self.files.create_index([("source", ASCENDING), ("path", ASCENDING)])
        await self.files.create_index("name")
        await self.files.create_index("tags")
        await self.files.create_index("owner")

    async def usage(self, owner: str) -> int:
        cursor = await self.files.aggregate([{"$match": {"owner": owner}},
                                             {"$group": {"_id": None, "bytes": {"$sum": "$size"}}}])
        found = await cursor.to_list(1)
        return int(found[0]["bytes"]) if found else 0

    async def get(self, urn: str) -> IndexEntry | None:
        doc = await self.files.find_one({"_id": urn})
        return _entry(doc) if doc else None

    async def get_many(self, urns: Sequence[str]) -> dict[str, IndexEntry]:
        return {doc["_id"]: _entry(doc) async for doc in self.files.find({"_id": {"$in": list(urns)}})}

    async def put(self, entry: IndexEntry) -> None:
        doc = dataclasses.asdict(entry)
        await self.files.replace_one({"_id": entry.urn}, {"_id": entry.urn, **doc}, upsert=True)

    async def all_in(self, source: str, path: str) -> list[IndexEntry]:
        return [_entry(d) async for d in self.files.find({"source": source, **_under(path)})]

    async def remove_tree(self, source: str, path: str) -> list[IndexEntry]:
        entries = await self.all_in(source, path)
        if entries:
            await self.files.delete_many({"_id": {"$in": [e.urn for e in entries]}})
        return entries

    async def move_tree(self, src_source: str, src_path: str, dst_source: str, dst_path: str) -> None:
        for entry in await self.remove_tree(src_source, src_path):
            rest = entry.path[len(src_path):].lstrip("/")
            entry.source, entry.path = dst_source, join(dst_path, rest)
            entry.urn, entry.name = str(Urn(dst_source, entry.path)), basename(entry.path)
            await self.put(entry)

    async def set_acl(self, entry: IndexEntry, acl: list[dict[str, str]] | None) -> IndexEntry:
        rest = {k: v for k, v in dataclasses.asdict(entry).items() if k not in ("acl", "acl_changed")}
        doc = await self.files.find_one_and_update(
            {"_id": entry.urn}, {"$set": {"acl": acl, "acl_changed": time.time()}, "$setOnInsert": rest},
            upsert=True, return_document=ReturnDocument.AFTER)
        if doc.get("owner") is None and entry.owner is not None:
            doc = await self.files.find_one_and_update(
                {"_id": entry.urn, "owner": None}, {"$set": {"owner": entry.owner}},
                return_document=ReturnDocument.AFTER) or await self.files.find_one({"_id": entry.urn})
        return _entry(doc)

    async def add(self, entry: IndexEntry) -> tuple[IndexEntry, bool]:
        done = await self.files.update_one({"_id": entry.urn}, {"$setOnInsert": dataclasses.asdict(entry)},
                                           upsert=True)
        if done.upserted_id is not None:
            return entry, True
        found = await self.get(entry.urn)
        return (found or entry), False

    async def set_tags(self, urn: str, tags: list[str]) -> IndexEntry | None:
        doc = await self.files.find_one_and_update(
            {"_id": urn}, {"$set": {"tags": tags}}, return_document=ReturnDocument.AFTER)
        return _entry(doc) if doc else None

    async def search(self, *, name: str | None, tag: str | None, owner: str | None,
                     skip: int, limit: int) -> tuple[list[IndexEntry], int]:
        query: dict[str, Any] = {}
        if name:
            query["name"] = {"$regex": re.escape(name), "$options": "i"}
        if tag:
            query["tags"] = tag
        if owner:
            query["owner"] = owner
        total = await self.files.count_documents(query)
        cursor = self.files.find(query).sort("urn", ASCENDING).skip(skip).limit(limit)
        return [_entry(d) async for d in cursor], total


class MongoTrashStore:
    def __init__(self, db: Any, collection: str = "storage_trash") -> None:
        self.items = db[collection]

    async def add(self, item: TrashItem) -> None:
        await self.items.insert_one({"_id": item.id, **dataclasses.asdict(item)})

    async def get(self, item_id: str) -> TrashItem | None:
        doc = await self.items.find_one({"_id": item_id})
        return TrashItem(**{k: v for k, v in doc.items() if k != "_id"}) if doc else None

    async def remove(self, item_id: str) -> None:
        await self.items.delete_one({"_id": item_id})

    async def list(self, *, visible_to: str | None) -> list[TrashItem]:
        query = {} if visible_to is None else {"$or": [{"deleted_by": visible_to}, {"owners": visible_to}]}
        cursor = self.items.find(query).sort("deleted_at", ASCENDING)
        return [TrashItem(**{k: v for k, v in d.items() if k != "_id"}) async for d in cursor]


class MongoQuotaStore:
    def __init__(self, db: Any, collection: str = "storage_quotas") -> None:
        self.quotas = db[collection]

    async def get(self, person: str) -> int | None:
        doc = await self.quotas.find_one({"_id": person})
        return int(doc["bytes"]) if doc else None

    async def set(self, person: str, limit: int | None) -> None:
        if limit is None:
            await self.quotas.delete_one({"_id": person})
        else:
            await self.quotas.replace_one({"_id": person}, {"bytes": limit}, upsert=True)


class MongoJobStore:
    """Transfer jobs in `storage_jobs`, kept a week after they finish."""

    def __init__(self, db: Any, collection: str = "storage_jobs", *, keep_seconds: int = 7 * 86400) -> None:
        self.jobs = db[collection]
        self.keep_seconds = keep_seconds

    async def ensure_indexes(self) -> None:
        await self.jobs.create_index("finished", expireAfterSeconds=self.keep_seconds)

    async def save(self, job: Job) -> None:
        doc = dataclasses.asdict(job)
        doc["_id"] = doc.pop("id")
        await self.jobs.replace_one({"_id": job.id}, doc, upsert=True)

    async def get(self, job_id: str) -> Job | None:
        doc = await self.jobs.find_one({"_id": job_id})
        if doc is None:
            return None
        doc["id"] = doc.pop("_id")
        for key in ("created", "finished", "updated"):
            if doc.get(key) is not None and doc[key].tzinfo is None:
                doc[key] = doc[key].replace(tzinfo=UTC)
        return Job(**doc)
