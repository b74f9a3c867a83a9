"""The proof a service account gives of who it is: a client assertion (RFC 7523) signed
with its nkey seed, checked against its registered public key (looked up through `PrincipalLookup`). Each
`jti` is spent once: `adapters.mongo.assertions`."""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from webos_common.http.errors import Unauthorized
from webos_common.security.principals import Principal, verify
from webos_common.security.service_auth import ASSERTION_AUDIENCE

MAX_ASSERTION_LIFETIME = 300  # seconds from iat to exp
LEEWAY = 30  # seconds of clock skew accepted between a principal's host and auth


def invalid_client(message: str) -> Unauthorized:
    return Unauthorized(message, code="invalid_client")


class PrincipalLookup(Protocol):
    def get(self, name: str) -> Principal | None: ...


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


def check_assertion(assertion: str, directory: PrincipalLookup, *, now: float | None = None) -> Assertion:
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
