"""Service accounts: the principals of `principals.json` (public keys only)
as OAuth clients, and the proof each one gives of who it is — a client
assertion (RFC 7523) signed with its nkey seed.

The registry is re-read when the file's mtime changes (one `stat` per
token request), so adding, rotating or removing a principal takes effect
without restarting auth. The assertion's `jti` is recorded in MongoDB
(`auth_assertion_jtis`, unique `_id`, TTL on the expiry), so a captured
assertion cannot be replayed at this or any other auth replica."""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

from loguru import logger
from pymongo.errors import DuplicateKeyError

from webos_common.errors import Unauthorized
from webos_common.security.principals import CredentialError, Principal, PrincipalRegistry, verify
from webos_common.security.service_auth import ASSERTION_AUDIENCE

MAX_ASSERTION_LIFETIME = 300  # seconds from iat to exp
LEEWAY = 30  # seconds of clock skew accepted between a principal's host and auth


def invalid_client(message: str) -> Unauthorized:
    return Unauthorized(message, code="invalid_client")


class PrincipalDirectory:
    """`principals.json`, re-read when its mtime (or size) changes."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._stamp: tuple[int, int] | None = None
        self._registry = PrincipalRegistry()

    def get(self, name: str) -> Principal | None:
        return self._current().principals.get(name)

    def _current(self) -> PrincipalRegistry:
        if self.path is None:
            return self._registry
        try:
            st = os.stat(self.path)
        except OSError:
            self._stamp, self._registry = None, PrincipalRegistry()
            return self._registry
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                self._registry = PrincipalRegistry.load(self.path)
            except CredentialError as exc:  # keep the last good registry; a half-written file is retried
                logger.warning("auth: {}", exc)
                return self._registry
            self._stamp = stamp
            logger.info("auth: {} principals from {}", len(self._registry.principals), self.path)
        return self._registry


@dataclass(frozen=True)
class Assertion:
    principal: Principal
    jti: str
    exp: int


def _b64json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(part))
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_client("The client assertion is not a JWT") from exc
    if not isinstance(value, dict):
        raise invalid_client("The client assertion is not a JWT")
    return value


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise invalid_client("The client assertion is not a JWT") from exc


def check_assertion(assertion: str, directory: PrincipalDirectory, *, now: float | None = None) -> Assertion:
    """Who signed `assertion`, once every check passed; `invalid_client` (401) otherwise."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise invalid_client("The client assertion is not a JWT")
    header, claims = _b64json(parts[0]), _b64json(parts[1])
    if header.get("alg") != "EdDSA":
        raise invalid_client("The client assertion must be signed with EdDSA (an nkey)")
    name = claims.get("sub")
    principal = directory.get(name) if isinstance(name, str) else None
    if principal is None or claims.get("iss") != name:
        raise invalid_client("Unknown client (iss and sub must name a registered principal)")
    if header.get("kid") != principal.public_key:
        raise invalid_client(f"The client assertion's key is not {name}'s registered key")
    if not verify(principal.public_key, f"{parts[0]}.{parts[1]}".encode(), _b64decode(parts[2])):
        raise invalid_client("The client assertion's signature is invalid")
    aud = claims.get("aud")
    if ASSERTION_AUDIENCE not in ([aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []):
        raise invalid_client(f"The client assertion's aud must be {ASSERTION_AUDIENCE!r}")
    iat, exp, jti = claims.get("iat"), claims.get("exp"), claims.get("jti")
    if not _number(iat) or not _number(exp) or not 0 < exp - iat <= MAX_ASSERTION_LIFETIME:
        raise invalid_client(f"The client assertion needs iat and exp at most {MAX_ASSERTION_LIFETIME} s apart")
    now = time.time() if now is None else now
    if iat > now + LEEWAY or exp < now - LEEWAY:
        raise invalid_client("The client assertion is expired or not yet valid")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
        raise invalid_client("The client assertion needs a jti (8 to 128 characters)")
    return Assertion(principal, jti, int(exp))


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class AssertionLedger:
    """Every assertion `jti` seen, until the assertion could no longer be used anyway."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def spend(self, assertion: Assertion) -> None:
        until = datetime.fromtimestamp(assertion.exp + LEEWAY, UTC)
        try:
            await self.collection.insert_one({"_id": assertion.jti, "principal": assertion.principal.name,
                                              "expires_at": until})
        except DuplicateKeyError as exc:
            raise invalid_client("The client assertion was already used (jti replayed)") from exc
