"""Notifications: store, list, count, mark read — and announce to live push."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pymongo

from webos_common.bus import register_event
from webos_common.http.errors import NotFound
from webos_events.adapters.mongo import NOTIFICATIONS, page
from webos_events.domain.models import NotificationIn, NotificationRead
from webos_events.ports import EventEmitter

SEND = "notification:send"
CREATED = "notification:created"

register_event(SEND, NotificationIn)
register_event(CREATED, NotificationRead)


def _read(doc: dict[str, Any]) -> NotificationRead:
    return NotificationRead.model_validate({**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]})


async def notify(db: Any, bus: EventEmitter | None, note: NotificationIn, *, id: str | None = None) -> NotificationRead:
    """Store a notification (idempotent by id) and announce `notification:created`."""
    doc = {**note.model_dump(), "_id": id or uuid.uuid4().hex, "read": False, "read_at": None,
           "created_at": datetime.now(UTC)}
    result = await db[NOTIFICATIONS].update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)
    if result.upserted_id is None:  # a redelivered send: already stored and announced
        stored = await db[NOTIFICATIONS].find_one({"_id": doc["_id"]})
        return _read(stored or doc)
    created = _read(doc)
    if bus is not None:
        await bus.emit(CREATED, created.model_dump(mode="json"))
    return created


async def list_for(db: Any, user_id: str, *, unread: bool | None, skip: int,
                   limit: int) -> tuple[list[NotificationRead], int]:
    query: dict[str, Any] = {"user_id": user_id}
    if unread is not None:
        query["read"] = not unread
    docs, total = await page(db[NOTIFICATIONS], query, sort=[("created_at", pymongo.DESCENDING)],
                             skip=skip, limit=limit)
    return [_read(d) for d in docs], total


async def get_for(db: Any, user_id: str, note_id: str) -> NotificationRead:
    doc = await db[NOTIFICATIONS].find_one({"_id": note_id, "user_id": user_id})
    if doc is None:
        raise NotFound("Notification not found", details={"id": note_id})
    return _read(doc)


async def unread_count(db: Any, user_id: str) -> int:
    count: int = await db[NOTIFICATIONS].count_documents({"user_id": user_id, "read": False})
    return count


async def mark_read(db: Any, user_id: str, note_id: str) -> NotificationRead:
    doc = await db[NOTIFICATIONS].find_one_and_update(
        {"_id": note_id, "user_id": user_id},
        {"$set": {"read": True, "read_at": datetime.now(UTC)}},
        return_document=pymongo.ReturnDocument.AFTER,
    )
    if doc is None:  # someone else's looks exactly like a missing one
        raise NotFound("Notification not found", details={"id": note_id})
    return _read(doc)


async def mark_all_read(db: Any, user_id: str) -> int:
    result = await db[NOTIFICATIONS].update_many({"user_id": user_id, "read": False},
                                                 {"$set": {"read": True, "read_at": datetime.now(UTC)}})
    modified: int = result.modified_count
    return modified
