"""Access tokens (RS256 JWT, short-lived) and refresh tokens (opaque, stored
as SHA-256, rotated on every use; presenting a used one revokes its family).

A family is one sign-in: every refresh token rotated from the first one and
every access token issued with them, which carry the family as `sid`. So a
reuse can stop the family's access tokens too, not only its refresh tokens."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from webos_auth.adapters.mongo.keys import KeyStore
from webos_auth.domain.tokens import RefreshReused, TokenPair, digest
from webos_common.http.errors import Unauthorized


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Tokens:
    def __init__(self, keys: KeyStore, refresh: Any, *, issuer: str, audience: str,
                 access_ttl: int, refresh_ttl: int, reuse_grace: float = 0) -> None:
        self.keys, self.refresh = keys, refresh
        self.issuer, self.audience = issuer, audience
        self.access_ttl, self.refresh_ttl = access_ttl, refresh_ttl
        self.reuse_grace = reuse_grace

    async def ensure_indexes(self) -> None:
        await self.refresh.create_index("family")
        await self.refresh.create_index("user_id")
        await self.refresh.create_index("parent", sparse=True)
        await self.refresh.create_index("expires_at", expireAfterSeconds=0)

    async def access_token(self, user: dict[str, Any], permissions: list[str], *, sid: str | None = None) -> str:
        precise = time.time()
        now = int(precise)
        claims = {
            "sub": user["_id"], "iss": self.issuer, "aud": self.audience, "iat": now, "nbf": now,
            "iat_ms": int(precise * 1000),  # revocations compare to the millisecond
            "exp": now + self.access_ttl, "jti": uuid.uuid4().hex, "typ": "access",
            "preferred_username": user["username"], "email": user["email"],
            "roles": list(user.get("roles", [])), "permissions": permissions,
            **({"sid": sid} if sid else {}),
        }
        return await self.keys.sign(claims)

    async def issue(self, user: dict[str, Any], permissions: list[str], *, family: str | None = None,
                    parent: str | None = None) -> TokenPair:
        refresh = "wrt_" + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        family = family or uuid.uuid4().hex
        await self.refresh.insert_one({
            "_id": digest(refresh), "family": family, "user_id": user["_id"],
            "created_at": now, "expires_at": now + timedelta(seconds=self.refresh_ttl),
            "used_at": None, "revoked": False, **({"parent": parent} if parent else {}),
        })
        access = await self.access_token(user, permissions, sid=family)
        return TokenPair(access, refresh, self.access_ttl, self.refresh_ttl)

    async def consume(self, refresh: str) -> tuple[str, str, str]:
        """Mark a refresh token used and return (user_id, family, token id).

        A used token presented again revokes its whole family (someone else
        holds a copy) — except within `reuse_grace` seconds of its use while
        no successor has been used yet: two tabs or two requests that raced
        with the same token each get a pair, in the same family."""
        now = datetime.now(UTC)
        token_id = digest(refresh)
        doc = await self.refresh.find_one_and_update(
            {"_id": token_id, "used_at": None, "revoked": False, "expires_at": {"$gt": now}},
            {"$set": {"used_at": now}},
        )
        if doc is not None:
            return doc["user_id"], doc["family"], token_id
        old = await self.refresh.find_one({"_id": token_id})
        if old is not None and old.get("revoked_reason"):  # an admin's change: the person is told why
            raise Unauthorized(old["revoked_reason"], code="signed_out_by_admin")
        if old is None or old["used_at"] is None:
            raise Unauthorized("Invalid, expired or revoked refresh token")
        if await self._raced(old, now):
            return old["user_id"], old["family"], token_id
        await self.revoke_family(old["family"])
        raise RefreshReused(old["family"])

    async def _raced(self, old: dict[str, Any], now: datetime) -> bool:
        if self.reuse_grace <= 0 or old["revoked"] or _aware(old["expires_at"]) <= now:
            return False
        if (now - _aware(old["used_at"])).total_seconds() > self.reuse_grace:
            return False
        moved_on = await self.refresh.find_one({"parent": old["_id"], "used_at": {"$ne": None}}, {"_id": 1})
        return moved_on is None

    async def revoke_family(self, family: str) -> None:
        await self.refresh.update_many({"family": family}, {"$set": {"revoked": True}})

    async def revoke(self, refresh: str) -> None:
        doc = await self.refresh.find_one({"_id": digest(refresh)})
        if doc is not None:
            await self.revoke_family(doc["family"])

    async def revoke_user(self, user_id: str, reason: str | None = None) -> None:
        """Every session of the person; `reason` is what their next refresh answers."""
        changes: dict[str, Any] = {"revoked": True}
        if reason:
            changes["revoked_reason"] = reason
        await self.refresh.update_many({"user_id": user_id, "revoked": False}, {"$set": changes})
