"""Signing keys in MongoDB (`auth_signing_keys`): RSA 2048, the private half
sealed with `webos_common.security.keyring` under `key_encryption_secret`. The
newest active key signs; a rotated-out key stays in the JWKS until every token
it signed has expired (retired_at + access-token lifetime).

Private halves stored by earlier versions (Fernet under a SHA-256 of the
secret) still open, and `ensure` re-seals them, and those under an older
secret, with the current keyring at start."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from pymongo.errors import DuplicateKeyError

from webos_common.security.keyring import Keyring, is_ciphertext

REFRESH_EVERY = 30.0  # seconds between reloads, so a rotation on another replica is picked up
# the published set and an unknown key id are looked up again after this long: a key another
# replica made (replicas starting together each make one) is served within a second, not 30
PUBLISH_FRESH = 1.0


def _legacy_fernet(secrets: list[str]) -> MultiFernet:
    """How private halves were sealed before the keyring (read only, to migrate them)."""
    return MultiFernet([Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"webos-signing-keys:" + s.encode()).digest()))
                        for s in secrets])


def _public_jwk(public_pem: str, kid: str) -> dict[str, Any]:
    raw = jwk.construct(public_pem, "RS256").to_dict()
    clean = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in raw.items()}
    return {**clean, "kid": kid, "use": "sig", "alg": "RS256"}


class KeyStore:
    def __init__(self, collection: Any, *, keyring: Keyring, legacy_secrets: list[str], token_ttl: int,
                 rotation_days: int) -> None:
        self.collection, self.keyring = collection, keyring
        self.legacy = _legacy_fernet(legacy_secrets)
        self.token_ttl = token_ttl
        self.rotation = timedelta(days=rotation_days)
        self._signing: tuple[str, Any] | None = None  # (kid, jose key; parsing a PEM per token is slow)
        self._public: dict[str, dict[str, Any]] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def ensure(self) -> None:
        """Load the keys; create the first one, or rotate an over-age one."""
        await self.collection.create_index([("retired_at", 1)])
        # one key per generation: replicas starting (or rotating) together make one key, not one each
        await self.collection.create_index([("generation", 1)], unique=True, sparse=True)
        await self.seal_stored()
        await self.load()
        if self._due(await self._active_doc()):
            await self._succeed(self._due)

    def _due(self, active: dict[str, Any] | None) -> bool:
        return active is None or active["created_at"] + self.rotation < datetime.now(UTC)

    async def rotate(self) -> str:
        """A new key signs from now on; the previous ones are retired (still published). When
        another replica made this generation's key first, that one is taken instead."""
        return await self._succeed(lambda active: True)

    async def _succeed(self, wanted: Callable[[dict[str, Any] | None], bool]) -> str:
        """The key after the active one, if `wanted` still says so once a key is made: the
        active key is read just before writing, so replicas doing this together read the same
        one and race for one generation, which the unique index gives to one of them."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the slow part, first
        active = await self._active_doc()
        if not wanted(active):  # another replica made it meanwhile
            await self.load()
            assert self._signing is not None
            return self._signing[0]
        generation = int(active.get("generation") or 0) + 1 if active else 1
        kid = uuid.uuid4().hex[:16]
        private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        now = datetime.now(UTC)
        try:
            await self.collection.insert_one({
                "_id": kid, "created_at": now, "retired_at": None, "generation": generation,
                "private_key": self.keyring.encrypt(private_pem.decode()),
                "public_jwk": _public_jwk(public_pem, kid),
            })
        except DuplicateKeyError:
            await self.load()
            assert self._signing is not None
            return self._signing[0]
        await self.collection.update_many({"_id": {"$ne": kid}, "retired_at": None}, {"$set": {"retired_at": now}})
        await self.load()
        return kid

    def _open(self, stored: str) -> str:
        if is_ciphertext(stored):
            return str(self.keyring.decrypt(stored))
        return self.legacy.decrypt(stored.encode()).decode()

    async def seal_stored(self) -> int:
        """Re-seal every private half not under the keyring's current key; how many. Conditional
        on the value read, so replicas starting together do not clash."""
        changed = 0
        async for doc in self.collection.find({}, {"private_key": 1}):
            stored = doc["private_key"]
            if is_ciphertext(stored) and not self.keyring.needs_rotation(stored):
                continue
            done = await self.collection.update_one({"_id": doc["_id"], "private_key": stored},
                                                    {"$set": {"private_key": self.keyring.encrypt(self._open(stored))}})
            changed += done.modified_count
        return changed

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
                    pem = self._open(doc["private_key"])
                    signing = (doc["_id"], jwk.construct(pem, "RS256"))
        self._public, self._signing, self._loaded_at = published, signing, time.monotonic()

    async def _fresh(self, max_age: float = REFRESH_EVERY) -> None:
        if time.monotonic() - self._loaded_at > max_age:
            async with self._lock:
                if time.monotonic() - self._loaded_at > max_age:
                    await self.load()

    async def jwks(self) -> dict[str, Any]:
        await self._fresh(PUBLISH_FRESH)
        return {"keys": list(self._public.values())}

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        """`JWKSSource` for auth's own verifier."""
        await self._fresh(REFRESH_EVERY if kid in self._public else PUBLISH_FRESH)
        return self._public.get(kid)

    async def ready(self) -> tuple[str, Any]:
        """The current signing key (kid, key), loaded afresh when stale."""
        await self._fresh()
        if self._signing is None:
            await self.ensure()
        assert self._signing is not None
        return self._signing

    def signing_pem(self) -> tuple[str, bytes]:
        """The key `ready()` loaded, as (kid, private PEM): for code that signs off the event loop
        (the OpenID Provider's ID tokens)."""
        assert self._signing is not None, "await ready() first"
        kid, key = self._signing
        return kid, bytes(key.to_pem())

    def published(self) -> dict[str, Any]:
        """The JWKS as last loaded (`jwks()` without the reload)."""
        return {"keys": list(self._public.values())}

    async def sign(self, claims: dict[str, Any]) -> str:
        kid, key = await self.ready()
        return str(jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}))
