"""One-time tokens sent by mail (email verification, password reset,
invitation): random, stored as SHA-256 only, single use, expiring."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from webos_auth.domain.tokens import digest
from webos_common.http.errors import BadRequest


class ActionTokens:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def create(self, kind: str, ttl: int, **data: Any) -> str:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await self.collection.insert_one({"_id": digest(token), "kind": kind, "created_at": now,
                                          "expires_at": now + timedelta(seconds=ttl), **data})
        return token

    async def consume(self, kind: str, token: str, *, field: str = "token", **match: Any) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.collection.find_one_and_delete(
            {"_id": digest(token), "kind": kind, "expires_at": {"$gt": datetime.now(UTC)}, **match})
        if doc is None:
            raise BadRequest(f"The {kind} link is invalid, used or expired", details={"field": field})
        return doc

    async def restore(self, doc: dict[str, Any]) -> None:
        """Put back what `consume` took, when what it was consumed for failed (a taken user name
        must not use up an invitation)."""
        await self.collection.insert_one(doc)

    async def peek(self, kind: str, token: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one(
            {"_id": digest(token), "kind": kind, "expires_at": {"$gt": datetime.now(UTC)}})
        return doc
