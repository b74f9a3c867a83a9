"""Access requests (`auth_access_requests`): what a person asks for on the first-day page,
pending until an admin approves it (granting roles) or denies it. One pending request per
person: asking again replaces the message of the one already waiting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pymongo import ReturnDocument

from webos_common.http.errors import NotFound
from webos_common.identity import User

PENDING = "pending"


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


class AccessRequests:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("status", 1), ("at", -1)])
        await self.collection.create_index("user_id", unique=True, partialFilterExpression={"status": PENDING})

    async def open(self, *, user_id: str, username: str, message: str, permissions: list[str]) -> dict[str, Any]:
        doc: dict[str, Any] = await self.collection.find_one_and_update(
            {"user_id": user_id, "status": PENDING},
            {"$set": {"username": username, "message": message, "permissions": permissions,
                      "at": datetime.now(UTC)}, "$setOnInsert": {"_id": uuid.uuid4().hex}},
            upsert=True, return_document=ReturnDocument.AFTER)
        return doc

    async def pending(self, *, limit: int) -> list[dict[str, Any]]:
        return [doc async for doc in self.collection.find({"status": PENDING}, sort=[("at", -1)], limit=limit)]

    async def get_pending(self, request_id: str) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.collection.find_one({"_id": request_id, "status": PENDING})
        if doc is None:
            raise NotFound(f"No pending access request {request_id}")
        return doc

    async def close(self, request_id: str, *, status: Literal["approved", "denied"], by: User,
                    roles: list[str] | None = None) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.collection.find_one_and_update(
            {"_id": request_id, "status": PENDING},
            {"$set": {"status": status, "closed_at": datetime.now(UTC), "closed_by": by.username or by.id,
                      "granted": roles or []}},
            return_document=ReturnDocument.AFTER)
        if doc is None:
            raise NotFound(f"No pending access request {request_id}")
        return doc
