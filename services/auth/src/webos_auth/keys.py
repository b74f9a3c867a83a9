"""Signing keys in MongoDB (`auth_signing_keys`): RSA 2048, the private half
encrypted with a key derived from `key_encryption_secret`. The newest active
key signs; a rotated-out key stays in the JWKS until every token it signed
has expired (retired_at + access-token lifetime)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

REFRESH_EVERY = 30.0  # seconds between reloads, so a rotation on another replica is picked up


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"webos-signing-keys:" + secret.encode()).digest()))


def _public_jwk(public_pem: str, kid: str) -> dict[str, Any]:
    raw = jwk.construct(public_pem, "RS256").to_dict()
    clean = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in raw.items()}
    return {**clean, "kid": kid, "use": "sig", "alg": "RS256"}


class KeyStore:
    def __init__(self, collection: Any, *, secret: str, token_ttl: int, rotation_days: int) -> None:
        self.collection = collection
        self.fernet = _fernet(secret)
        self.token_ttl = token_ttl
        self.rotation = timedelta(days=rotation_days)
        self._signing: tuple[str, Any] | None = None  # (kid, jose key; parsing a PEM per token is slow)
        self._public: dict[str, dict[str, Any]] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def ensure(self) -> None:
        """Load the keys; create the first one, or rotate an over-age one."""
        await self.collection.create_index([("retired_at", 1)])
        await self.load()
        active = await self._active_doc()
        if active is None or active["created_at"] + self.rotation < datetime.now(UTC):
            await self.rotate()

    async def rotate(self) -> str:
        """A new key signs from now on; the previous ones are retired (still published)."""
        kid = uuid.uuid4().hex[:16]
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        now = datetime.now(UTC)
        await self.collection.insert_one({
            "_id": kid, "created_at": now, "retired_at": None,
            "private_key": self.fernet.encrypt(private_pem).decode(),
            "public_jwk": _public_jwk(public_pem, kid),
        })
        await self.collection.update_many({"_id": {"$ne": kid}, "retired_at": None}, {"$set": {"retired_at": now}})
        await self.load()
        return kid

    async def _active_doc(self) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one({"retired_at": None}, sort=[("created_at", -1)])
        return doc

    async def load(self) -> None:
        now = datetime.now(UTC)
        horizon = now - timedelta(seconds=self.token_ttl + 60)
        published: dict[str, dict[str, Any]] = {}
        signing: tuple[str, Any] | None = None
        async for doc in self.collection.find({"$or": [{"retired_at": None}, {"retired_at": {"$gt": horizon}}]},
                                              sort=[("created_at", -1)]):
            published[doc["_id"]] = doc["public_jwk"]
            if signing is None and doc["retired_at"] is None:
                if self._signing is not None and self._signing[0] == doc["_id"]:
                    signing = self._signing
                else:
                    pem = self.fernet.decrypt(doc["private_key"].encode()).decode()
                    signing = (doc["_id"], jwk.construct(pem, "RS256"))
        self._public, self._signing, self._loaded_at = published, signing, time.monotonic()

    async def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at > REFRESH_EVERY:
            async with self._lock:
                if time.monotonic() - self._loaded_at > REFRESH_EVERY:
                    await self.load()

    async def jwks(self) -> dict[str, Any]:
        await self._fresh()
        return {"keys": list(self._public.values())}

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        """`JWKSSource` for auth's own verifier."""
        await self._fresh()
        return self._public.get(kid)

    async def sign(self, claims: dict[str, Any]) -> str:
        await self._fresh()
        if self._signing is None:
            await self.ensure()
        assert self._signing is not None
        kid, key = self._signing
        return str(jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}))
