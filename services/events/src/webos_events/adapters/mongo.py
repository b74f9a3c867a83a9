"""MongoDB collections the events service owns, and their indexes.

`events_log` (TTL on `timestamp`), `events_notifications` (seed 004:
user+created_at, user+read, 30-day TTL), `events_dead_letters`.
"""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo.errors import OperationFailure

LOG = "events_log"
NOTIFICATIONS = "events_notifications"
DEAD_LETTERS = "events_dead_letters"


async def ensure_ttl_index(collection: Any, field: str, seconds: int) -> None:
    """A TTL index on `field`; an existing one gets its new expiry (collMod)."""
    name = f"{field}_ttl"
    try:
        await collection.create_index(field, name=name, expireAfterSeconds=seconds)
    except OperationFailure as exc:
        if exc.code not in (85, 86):  # IndexOptionsConflict / IndexKeySpecsConflict
            raise
        await collection.database.command(
            {"collMod": collection.name, "index": {"name": name, "expireAfterSeconds": seconds}}
        )


async def ensure_indexes(db: Any, *, log_ttl: int, notification_ttl: int) -> None:
    log = db[LOG]
    await ensure_ttl_index(log, "timestamp", log_ttl)
    for keys in (["topic", "timestamp"], ["user_id", "timestamp"], ["source", "timestamp"], ["trace_id"]):
        await log.create_index([(k, pymongo.DESCENDING if k == "timestamp" else pymongo.ASCENDING) for k in keys])
    # a record's history (`eventlog.history`): its own events, and bulk updates naming it
    for field in ("payload.id", "payload.ids"):
        await log.create_index([(field, pymongo.ASCENDING), ("timestamp", pymongo.DESCENDING)], sparse=True)
    notes = db[NOTIFICATIONS]
    await notes.create_index([("user_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)])
    await notes.create_index([("user_id", pymongo.ASCENDING), ("read", pymongo.ASCENDING)])
    await ensure_ttl_index(notes, "created_at", notification_ttl)
    letters = db[DEAD_LETTERS]
    await letters.create_index([("status", pymongo.ASCENDING), ("failed_at", pymongo.DESCENDING)])
    await letters.create_index([("consumer", pymongo.ASCENDING), ("failed_at", pymongo.DESCENDING)])


async def page(collection: Any, query: dict[str, Any], *, sort: list[tuple[str, int]], skip: int,
               limit: int) -> tuple[list[dict[str, Any]], int]:
    total = await collection.count_documents(query)
    cursor = collection.find(query).sort(sort).skip(skip).limit(limit)
    return [doc async for doc in cursor], total
