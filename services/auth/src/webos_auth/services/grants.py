"""`POST /token` use cases: service tokens (client credentials) and token
exchange (a person's token → a narrower one for one service, with the
principal that acts named in `azp` and `act`).

Both are RS256 JWTs signed like the people's access tokens, but for one
audience (a service or module name, never the people's `webos`) and for at
most `SERVICE_TOKEN_TTL` seconds; an exchange never outlives its subject
token. Audience `webos-bus` gives a `typ="bus"` token: a person's identity
to carry in an event, refused as a bearer by every HTTP service."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError
from loguru import logger

from webos_auth.bootstrap import Container
from webos_auth.domain.assertions import check_assertion
from webos_auth.domain.permissions import covered
from webos_auth.services import accounts
from webos_common.http.errors import BadRequest, ValidationFailed, WebOSError
from webos_common.security import TokenVerifier
from webos_common.security.introspect import is_api_key
from webos_common.security.principals import Principal
from webos_common.security.service_auth import ACCESS_TOKEN_TYPE, ASSERTION_AUDIENCE, BUS_AUDIENCE, JWT_TOKEN_TYPE

SERVICE_TOKEN_TTL = 300
TARGET_KINDS = ("service", "module")  # principals that serve HTTP


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int
    token_type_issued: str = ACCESS_TOKEN_TYPE

    def as_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "bearer", "expires_in": self.expires_in,
                "issued_token_type": self.token_type_issued}


@dataclass(frozen=True)
class Subject:
    """The person a subject token names, and what it grants."""

    claims: dict[str, Any]  # sub, preferred_username, email, roles, permissions (and act, when chained)
    exp: float | None


def invalid_grant(message: str) -> BadRequest:
    return BadRequest(message, code="invalid_grant", details={"field": "subject_token"})


def parse_scope(scope: str | None) -> list[str] | None:
    return None if scope is None or not scope.strip() else sorted(set(scope.split()))


def narrow(granted: list[str], scope: list[str] | None) -> list[str]:
    """`scope` when every entry lies within `granted`; `invalid_scope` (400) otherwise."""
    if scope is None:
        return sorted(set(granted))
    outside = [p for p in scope if not covered(p, granted)]
    if outside:
        raise BadRequest("The scope asks for permissions the grant does not hold", code="invalid_scope",
                         details={"field": "scope", "not_granted": outside})
    return scope


def check_audience(c: Container, audience: str, *, bus: bool = False) -> None:
    if bus and audience == BUS_AUDIENCE:
        return
    target = c.principals.get(audience)
    if audience in (c.settings.jwt_audience, ASSERTION_AUDIENCE, BUS_AUDIENCE) or target is None \
            or target.kind not in TARGET_KINDS:
        allowed = "a registered service or module" + (f", or {BUS_AUDIENCE!r}" if bus else "")
        raise ValidationFailed(f"Invalid audience: {allowed}", details=[
            {"field": "audience", "location": "body", "message": f"must name {allowed}", "type": "value_error"}])


async def authenticate(c: Container, assertion: str) -> Principal:
    found = check_assertion(assertion, c.principals)
    await c.assertions.spend(found)
    return found.principal


def _now() -> tuple[int, int]:
    precise = time.time()
    return int(precise), int(precise * 1000)


async def service_token(c: Container, *, principal: Principal, audience: str, scope: str | None) -> Issued:
    check_audience(c, audience)
    permissions = narrow(principal.permissions, parse_scope(scope))
    now, now_ms = _now()
    claims = {"sub": f"svc:{principal.name}", "iss": c.settings.issuer, "aud": audience, "iat": now,
              "nbf": now, "iat_ms": now_ms, "exp": now + SERVICE_TOKEN_TTL, "jti": uuid.uuid4().hex,
              "typ": "access", "roles": ["service"], "permissions": permissions,
              "principal": principal.name, "principal_kind": principal.kind}
    token = await c.keys.sign(claims)
    logger.info("auth: service token for {} to {} ({} permissions)", principal.name, audience, len(permissions))
    return Issued(token, SERVICE_TOKEN_TTL)


async def exchange(c: Container, verifier: TokenVerifier, *, principal: Principal, subject_token: str,
                   audience: str, scope: str | None) -> Issued:
    check_audience(c, audience, bus=True)
    subject = await subject_of(c, verifier, subject_token, principal)
    person = subject.claims
    requested = parse_scope(scope)
    permissions = narrow(list(person.get("permissions") or []), requested)
    now, now_ms = _now()
    exp = now + SERVICE_TOKEN_TTL if subject.exp is None else min(now + SERVICE_TOKEN_TTL, int(subject.exp))
    if exp <= now:
        raise invalid_grant("The subject token has expired")
    actor: dict[str, Any] = {"sub": f"svc:{principal.name}"}
    if isinstance(person.get("act"), dict):  # a chain: who acted before
        actor["act"] = person["act"]
    bus = audience == BUS_AUDIENCE
    claims = {"sub": person["sub"], "iss": c.settings.issuer, "aud": audience, "iat": now, "nbf": now,
              "iat_ms": now_ms, "exp": exp, "jti": uuid.uuid4().hex, "typ": "bus" if bus else "access",
              "preferred_username": person.get("preferred_username", ""), "email": person.get("email"),
              # a scope is the whole grant: admin roles would bypass it, so they stay behind
              "roles": list(person.get("roles") or []) if requested is None else [],
              "permissions": permissions, "azp": principal.name, "act": actor}
    token = await c.keys.sign(claims)
    logger.info("auth: {} exchanged a token of user {} for {}", principal.name, person["sub"], audience)
    return Issued(token, exp - now, JWT_TOKEN_TYPE if bus else ACCESS_TOKEN_TYPE)


async def subject_of(c: Container, verifier: TokenVerifier, token: str, principal: Principal) -> Subject:
    """The person a subject token names — a person's access token, an API key, a bus token
    this endpoint issued, or a token exchanged for this very principal — checked as auth checks
    people: signature, expiry, revocations, the account still active."""
    if is_api_key(token):
        answer = await accounts.introspect(c, token)
        if not answer.get("active"):
            raise invalid_grant("The API key is invalid, expired or revoked")
        return Subject(answer, answer.get("exp"))
    try:
        typ = jwt.get_unverified_claims(token).get("typ")
        if typ == "bus":
            claims = await verifier.claims(token, typ="bus", audiences=[BUS_AUDIENCE])
        else:
            claims = await verifier.claims(token, audiences=[c.settings.jwt_audience, principal.name])
        verifier.check_revoked(claims)
    except (JOSEError, AttributeError) as exc:
        raise invalid_grant("The subject token is not a JWT or an API key") from exc
    except WebOSError as exc:
        raise invalid_grant(f"The subject token is not accepted: {exc.message}") from exc
    if claims.get("principal") or str(claims["sub"]).startswith("svc:"):
        raise invalid_grant("The subject token is a service's, not a person's")
    user = await c.users.collection.find_one({"_id": str(claims["sub"])}, {"active": 1})
    if user is None or not user.get("active", True):
        raise invalid_grant("The subject token's account no longer exists or is disabled")
    return Subject(claims, float(claims["exp"]))
