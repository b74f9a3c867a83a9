"""Per-user API keys: `wos_<id>_<secret>`, shown once, stored as SHA-256
of the secret, scoped to a subset of the owner's permissions, expiring and
revocable. Introspection re-checks the owner (active, current permissions)."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from webos_auth.domain.permissions import covered
from webos_auth.domain.tokens import digest
from webos_common.http.errors import Forbidden, NotFound
from webos_common.security import API_KEY_PREFIX


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "name": doc["name"], "prefix": doc["prefix"], "permissions": doc["permissions"],
            "created_at": doc["created_at"], "expires_at": doc.get("expires_at"),
            "revoked_at": doc.get("revoked_at"), "last_used_at": doc.get("last_used_at")}


class ApiKeys:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("user_id")

    async def create(self, user_id: str, granted: list[str], *, name: str, permissions: list[str],
                     expires_in_days: int | None) -> tuple[str, dict[str, Any]]:
        outside = [p for p in permissions if not covered(p, granted)]
        if outside:
            raise Forbidden("An API key cannot hold permissions you do not have",
                            details={"field": "permissions", "not_granted": outside})
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        key = f"{API_KEY_PREFIX}{key_id}_{secret}"
        now = datetime.now(UTC)
        doc = {"_id": key_id, "user_id": user_id, "name": name, "prefix": key[:14], "hash": digest(secret),
               "permissions": sorted(set(permissions)), "created_at": now, "revoked_at": None,
               "expires_at": now + timedelta(days=expires_in_days) if expires_in_days else None,
               "last_used_at": None}
        await self.collection.insert_one(doc)
        return key, doc

    async def list(self, user_id: str) -> list[dict[str, Any]]:
        return [doc async for doc in self.collection.find({"user_id": user_id}, sort=[("created_at", -1)])]

    async def revoke(self, user_id: str, key_id: str) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.collection.find_one_and_update(
            {"_id": key_id, "user_id": user_id}, {"$set": {"revoked_at": datetime.now(UTC)}}, return_document=True)
        if doc is None:
            raise NotFound("No such API key")
        return doc

    async def revoke_user(self, user_id: str) -> None:
        await self.collection.update_many({"user_id": user_id, "revoked_at": None},
                                          {"$set": {"revoked_at": datetime.now(UTC)}})

    async def lookup(self, key: str) -> dict[str, Any] | None:
        """The stored key a presented value names, if valid (timing-safe compare)."""
        body = key[len(API_KEY_PREFIX):] if key.startswith(API_KEY_PREFIX) else ""
        key_id, _, secret = body.partition("_")
        if not key_id or not secret:
            return None
        doc: dict[str, Any] | None = await self.collection.find_one({"_id": key_id})
        if doc is None or not hmac.compare_digest(doc["hash"], digest(secret)):
            return None
        now = datetime.now(UTC)
        if doc["revoked_at"] is not None or (doc["expires_at"] is not None and doc["expires_at"] <= now):
            return None
        await self.collection.update_one({"_id": key_id}, {"$set": {"last_used_at": now}})
        return doc
