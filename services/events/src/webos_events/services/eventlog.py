"""The event log: every event on the bus, kept for `events_log_ttl` (written by `adapters.eventlog_writer`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo

from webos_common.documents.sharing import may_see
from webos_common.http.errors import Forbidden, NotFound
from webos_common.identity import User
from webos_events.adapters.eventlog_writer import MICROS
from webos_events.adapters.mongo import LOG, page
from webos_events.domain import records
from webos_events.domain.models import EventRead


def _read(doc: dict[str, Any]) -> EventRead:
    return EventRead.model_validate({**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]})


async def search(db: Any, user: User, *, topic: str | None, source: str | None, user_id: str | None,
                 trace_id: str | None, since: datetime | None, until: datetime | None, skip: int,
                 limit: int) -> tuple[list[EventRead], int]:
    """Admins see every event; anyone else only the events they caused."""
    if not user.is_admin:
        if user_id not in (None, user.id):
            raise Forbidden("Only admins may read other users' events", details={"field": "user_id"})
        user_id = user.id
    query: dict[str, Any] = {}
    for field, value in (("topic", topic), ("source", source), ("user_id", user_id), ("trace_id", trace_id)):
        if value is not None:
            query[field] = value
    if since or until:
        query["timestamp"] = {k: v for k, v in (("$gte", since), ("$lt", until)) if v is not None}
    docs, total = await page(db[LOG], query, sort=[("timestamp", pymongo.DESCENDING)], skip=skip, limit=limit)
    return [_read(d) for d in docs], total


async def get(db: Any, user: User, event_id: str) -> EventRead:
    query: dict[str, Any] = {"_id": event_id}
    if not user.is_admin:
        query["user_id"] = user.id
    doc = await db[LOG].find_one(query)
    if doc is None:
        raise NotFound("Event not found", details={"id": event_id})
    return _read(doc)


async def history(db: Any, user: User, record_id: str, *, skip: int, limit: int) -> tuple[list[EventRead], int]:
    """The record's events (`<entity>:created/updated/deleted/restored/…` whose payload is the record,
    bulk updates naming it), newest first; 404 for a record the person may not read (or never logged)."""
    newest_first = [("timestamp", pymongo.DESCENDING), (MICROS, pymongo.DESCENDING)]
    query = records.about(record_id)
    newest = await db[LOG].find_one({**query, "payload.id": record_id}, sort=newest_first)
    if newest is None or not may_see(user, str(newest.get("source")), newest.get("payload") or {}):
        raise NotFound("No history for this record", details={"id": record_id})
    query["source"] = newest.get("source")
    docs, total = await page(db[LOG], query, sort=newest_first, skip=skip, limit=limit)
    return [_read(d) for d in docs], total
