"""What the provider keeps in MongoDB, so any replica finishes a flow another started:
registered clients (`auth_oauth_clients`, secrets as SHA-256), single-use codes with a TTL
(`auth_oauth_codes`), consents (`auth_oauth_consents`, one per person and app) and the tokens
issued to apps (`auth_oauth_tokens`, access and refresh token as SHA-256)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

CODE_TTL = 60  # seconds a code may wait for its redemption


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(doc: dict[str, Any], secret: str) -> bool:
    stored = doc.get("secret_sha256")
    return bool(stored) and hmac.compare_digest(str(stored), digest(secret))


class OAuthStore:
    def __init__(self, db: Any) -> None:
        self.clients, self.codes = db["auth_oauth_clients"], db["auth_oauth_codes"]
        self.consents, self.tokens = db["auth_oauth_consents"], db["auth_oauth_tokens"]

    async def ensure_indexes(self) -> None:
        await self.codes.create_index("expires_at", expireAfterSeconds=0)
        await self.codes.create_index([("client_id", 1), ("nonce", 1)], sparse=True)
        await self.consents.create_index("user_id")
        await self.tokens.create_index("access", unique=True)
        await self.tokens.create_index("refresh", unique=True, sparse=True)
        await self.tokens.create_index([("user_id", 1), ("client_id", 1)])
        await self.tokens.create_index("code", sparse=True)
        await self.tokens.create_index("expires_at", expireAfterSeconds=0)

    # clients
    async def register(self, *, name: str, redirect_uris: list[str], post_logout_redirect_uris: list[str],
                       scopes: list[str], public: bool, created_by: str) -> tuple[dict[str, Any], str | None]:
        secret = None if public else secrets.token_urlsafe(32)
        doc = {"_id": uuid.uuid4().hex, "name": name, "redirect_uris": redirect_uris,
               "post_logout_redirect_uris": post_logout_redirect_uris, "scopes": scopes, "public": public,
               "secret_sha256": digest(secret) if secret else None, "created_by": created_by,
               "created_at": datetime.now(UTC)}
        await self.clients.insert_one(doc)
        return doc, secret

    async def client(self, client_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.clients.find_one({"_id": client_id})
        return doc

    async def list_clients(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.clients.find({}).sort("created_at", 1)]

    async def delete_client(self, client_id: str) -> bool:
        gone = await self.clients.delete_one({"_id": client_id})
        await self.consents.delete_many({"client_id": client_id})
        await self.tokens.update_many({"client_id": client_id}, {"$set": {"revoked": True}})
        return bool(gone.deleted_count)

    # codes
    async def save_code(self, code: str, fields: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        await self.codes.insert_one({"_id": digest(code), **fields, "used_at": None, "created_at": now,
                                     "expires_at": now + timedelta(seconds=CODE_TTL)})

    async def take_code(self, code: str, client_id: str) -> dict[str, Any] | None:
        """The code, marked used in the same step (so two replicas cannot both redeem it); a code
        presented again revokes what it bought (RFC 6749 §4.1.2)."""
        now = datetime.now(UTC)
        key = digest(code)
        doc: dict[str, Any] | None = await self.codes.find_one_and_update(
            {"_id": key, "client_id": client_id, "used_at": None, "expires_at": {"$gt": now}},
            {"$set": {"used_at": now}})
        if doc is None and await self.codes.find_one({"_id": key, "used_at": {"$ne": None}}, {"_id": 1}):
            await self.revoke_lineage(key)
        return doc

    async def nonce_seen(self, client_id: str, nonce: str) -> bool:
        return await self.codes.find_one({"client_id": client_id, "nonce": nonce}, {"_id": 1}) is not None

    # consents
    async def consented(self, user_id: str, client_id: str) -> set[str]:
        doc = await self.consents.find_one({"_id": f"{user_id}:{client_id}"})
        return set(doc["scopes"]) if doc else set()

    async def consent(self, user_id: str, client_id: str, scopes: list[str]) -> None:
        await self.consents.update_one(
            {"_id": f"{user_id}:{client_id}"},
            {"$addToSet": {"scopes": {"$each": scopes}}, "$set": {"granted_at": datetime.now(UTC)},
             "$setOnInsert": {"user_id": user_id, "client_id": client_id}}, upsert=True)

    async def consents_of(self, user_id: str) -> list[dict[str, Any]]:
        return [doc async for doc in self.consents.find({"user_id": user_id}).sort("granted_at", -1)]

    async def withdraw(self, user_id: str, client_id: str) -> bool:
        """The person takes back an app's access: the consent and every token it holds."""
        gone = await self.consents.delete_one({"_id": f"{user_id}:{client_id}"})
        await self.revoke_tokens(user_id, client_id)
        return bool(gone.deleted_count)

    # tokens
    async def save_token(self, token: dict[str, Any], fields: dict[str, Any], refresh_ttl: int) -> None:
        now = datetime.now(UTC)
        refresh = token.get("refresh_token")
        lifetime = refresh_ttl if refresh else int(token.get("expires_in", 0))
        await self.tokens.insert_one({
            "_id": uuid.uuid4().hex, "access": digest(token["access_token"]),
            **({"refresh": digest(refresh)} if refresh else {}), **fields,
            "scope": token.get("scope", ""), "issued_at": now,
            "access_expires_at": now + timedelta(seconds=int(token.get("expires_in", 0))),
            "expires_at": now + timedelta(seconds=lifetime), "revoked": False})

    async def find_token(self, value: str, kind: str | None = None) -> tuple[dict[str, Any], str] | None:
        """A token by its value: (doc, "access_token" | "refresh_token")."""
        key = digest(value)
        for field in ([kind] if kind else []) + ["access_token", "refresh_token"]:
            doc = await self.tokens.find_one({field.removesuffix("_token"): key})
            if doc is not None:
                return doc, field
        return None

    async def revoke_token(self, token_id: str) -> None:
        await self.tokens.update_one({"_id": token_id}, {"$set": {"revoked": True}})

    async def revoke_lineage(self, code_id: str) -> None:
        """Every token bought with one code, refreshed ones included."""
        await self.tokens.update_many({"code": code_id}, {"$set": {"revoked": True}})

    async def revoke_tokens(self, user_id: str, client_id: str) -> None:
        await self.tokens.update_many({"user_id": user_id, "client_id": client_id}, {"$set": {"revoked": True}})
