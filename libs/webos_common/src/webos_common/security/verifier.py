"""JWT verification, local and cheap: RS256 only, issuer, audience, expiry,
signature against the JWKS key named by `kid`. Verified tokens are cached
until they expire, so a repeated token costs a dict lookup.

Bearer values with the `wos_` prefix are API keys: they are introspected
against auth (see `introspect.py`) and cached for `key_cache_ttl` seconds.

A verifier that `follow`s NATS applies auth's revocations (`revocation.py`)
at once: sign-out, disabled accounts and revoked keys do not wait for the
expiry. The cached path stays a dict lookup: revocations purge the cache.

A verifier accepts several audiences: the people's (`WEBOS_JWT_AUDIENCE`)
and, in a service, the service's own name — the audience of the service
tokens auth issues for calls to it (`service_auth.py`). A token for
`storage` works at storage and nowhere else."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError
from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.http.errors import Unauthorized
from webos_common.identity import User
from webos_common.security.introspect import HttpKeyIntrospector, KeyIntrospector, is_api_key
from webos_common.security.jwks import HttpJWKS, JWKSSource
from webos_common.security.revocation import SUBJECT as REVOKED_SUBJECT
from webos_common.security.revocation import Revocation

ALGORITHMS = ["RS256"]


def user_from_claims(claims: dict[str, Any]) -> User:
    return User(
        id=str(claims["sub"]),
        username=str(claims.get("preferred_username") or claims.get("username") or ""),
        email=claims.get("email"),
        roles=tuple(claims.get("roles") or ()),
        permissions=tuple(claims.get("permissions") or ()),
        extra=_extra(claims),
    )


def _extra(claims: dict[str, Any]) -> dict[str, str]:
    """Who else is in the token: the API key, the principal of a service token,
    the principal acting for the person in an exchanged one; the sign-in (`sid`)."""
    extra: dict[str, str] = {}
    if claims.get("sid"):
        extra["sid"] = str(claims["sid"])
    if claims.get("key_id"):
        extra["api_key"] = str(claims["key_id"])
    if claims.get("principal"):
        extra["principal"] = str(claims["principal"])
        if claims.get("principal_kind"):
            extra["principal_kind"] = str(claims["principal_kind"])
    if isinstance(claims.get("act"), dict) and claims.get("azp"):
        extra["actor"] = str(claims["azp"])
    return extra


def audiences_of(claims: dict[str, Any]) -> set[str]:
    aud = claims.get("aud")
    return {aud} if isinstance(aud, str) else {str(a) for a in aud} if isinstance(aud, list) else set()


def issued_at(claims: dict[str, Any]) -> float:
    """When a token was issued, to the millisecond when auth says so (`iat` is whole
    seconds, too coarse to tell a token from the second of a revocation)."""
    precise = claims.get("iat_ms")
    return precise / 1000 if isinstance(precise, int | float) else float(claims.get("iat") or 0)


class TokenVerifier:
    def __init__(self, jwks: JWKSSource, *, issuer: str, audience: str | Sequence[str], leeway: int = 5,
                 cache_size: int = 10_000, introspector: KeyIntrospector | None = None,
                 key_cache_ttl: float = 30.0) -> None:
        self.jwks = jwks
        if introspector is None and isinstance(jwks, HttpJWKS):
            introspector = HttpKeyIntrospector.from_jwks_url(jwks.url)
        self.introspector = introspector
        self.key_cache_ttl = key_cache_ttl
        self.issuer = issuer
        self.audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        self.audience = self.audiences[0]  # the people's
        self.leeway = leeway
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, User]] = OrderedDict()
        self._jti: dict[str, str] = {}  # token → jti, for the cached JWTs
        self._sid: dict[str, str] = {}  # token → sid (its sign-in), for the cached JWTs
        self._revoked_sid: dict[str, float] = {}  # sid → until
        self._revoked_jti: dict[str, float] = {}  # jti → until
        self._revoked_users: dict[str, tuple[float, float]] = {}  # user id → (before, until)
        self._revocations: Subscription | None = None

    async def verify(self, token: str) -> User:
        """The user a valid access token names; `Unauthorized` otherwise."""
        hit = self._cache.get(token)
        if hit is not None:
            if hit[0] > time.time():
                return hit[1]
            self.forget(token)
        if is_api_key(token):
            return await self._verify_key(token)
        claims = await self.claims(token)
        self.check_revoked(claims)
        user = user_from_claims(claims)
        self._remember(token, float(claims["exp"]), user)
        if claims.get("jti"):
            self._jti[token] = str(claims["jti"])
        if claims.get("sid"):
            self._sid[token] = str(claims["sid"])
        return user

    async def _verify_key(self, key: str) -> User:
        if self.introspector is None:
            raise Unauthorized("This service does not accept API keys")
        claims = await self.introspector.introspect(key)
        if claims is None:
            raise Unauthorized("Invalid, expired or revoked API key")
        user = user_from_claims(claims)
        until = time.time() + self.key_cache_ttl
        if claims.get("exp"):
            until = min(until, float(claims["exp"]))
        self._remember(key, until, user)
        return user

    def forget(self, token: str) -> None:
        """Drop one cached verification (e.g. a key just revoked locally)."""
        self._cache.pop(token, None)
        self._jti.pop(token, None)
        self._sid.pop(token, None)

    # -- revocation -----------------------------------------------------------
    def revoke(self, revocation: Revocation) -> int:
        """Apply a revocation: drop matching cached verifications and refuse the
        revoked tokens from now on. Returns how many cached entries went."""
        now = time.time()
        self._revoked_jti = {j: u for j, u in self._revoked_jti.items() if u > now}
        self._revoked_users = {k: v for k, v in self._revoked_users.items() if v[1] > now}
        self._revoked_sid = {s: u for s, u in self._revoked_sid.items() if u > now}
        if revocation.jti:
            self._revoked_jti[revocation.jti] = max(revocation.until, now + 3600)
        if revocation.sid:
            self._revoked_sid[revocation.sid] = max(revocation.until, now + 3600)
        if revocation.user_id and revocation.before is not None:
            self._revoked_users[revocation.user_id] = (revocation.before, max(revocation.until, now + 3600))
        gone = [token for token, (_, user) in self._cache.items()
                if (revocation.jti and self._jti.get(token) == revocation.jti)
                or (revocation.sid and self._sid.get(token) == revocation.sid)
                or (revocation.key_id and user.extra.get("api_key") == revocation.key_id)
                or (revocation.user_id and revocation.before is not None and user.id == revocation.user_id)]
        for token in gone:
            self.forget(token)
        return len(gone)

    def check_revoked(self, claims: dict[str, Any]) -> None:
        """`Unauthorized` when a revocation this verifier heard of covers the token."""
        jti = claims.get("jti")
        if jti and jti in self._revoked_jti:
            raise Unauthorized("This token was revoked (signed out)")
        sid = claims.get("sid")
        if sid and sid in self._revoked_sid:
            raise Unauthorized("This sign-in was revoked (its refresh token was reused); sign in again")
        revoked = self._revoked_users.get(str(claims.get("sub")))
        if revoked is not None and issued_at(claims) < revoked[0]:
            raise Unauthorized("This token was revoked; sign in again")

    def revoked_before(self, user_id: str, issued: float) -> float | None:
        """When the person's tokens issued at `issued` were revoked (sign-out everywhere, a
        disabled account, changed roles), or None. Derived tokens (bus tokens) are checked with it."""
        revoked = self._revoked_users.get(user_id)
        return revoked[0] if revoked is not None and issued < revoked[0] else None

    async def follow(self, nc: NATS) -> None:
        """Apply every revocation auth broadcasts (`webos.auth.revoked`)."""
        if self._revocations is not None:
            return

        async def on_revoked(msg: Msg) -> None:
            try:
                self.revoke(Revocation.model_validate_json(msg.data))
            except ValueError as exc:
                logger.warning("token verifier: ignoring a malformed revocation: {}", exc)

        self._revocations = await nc.subscribe(REVOKED_SUBJECT, cb=on_revoked)

    async def claims(self, token: str, *, typ: str = "access",
                     audiences: Sequence[str] | None = None) -> dict[str, Any]:
        """The verified claims of a JWT of type `typ` for one of `audiences` (default: this
        verifier's). Checks the signature, issuer, expiry and audience, not revocations."""
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthorized("Malformed token") from exc
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("Token algorithm not accepted")
        kid = header.get("kid")
        key = await self.jwks.get_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthorized("Token signed by an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=ALGORITHMS, issuer=self.issuer,
                options={"require_exp": True, "require_sub": True, "require_iat": False,
                         "verify_aud": False, "leeway": self.leeway},
            )
        except JOSEError as exc:
            raise Unauthorized(f"Invalid token: {exc}") from exc
        if not audiences_of(claims) & set(audiences or self.audiences):  # a token without `aud` fits none
            raise Unauthorized("Invalid token: not meant for this service (audience)")
        if claims.get("typ") != typ:  # ID, bus, refresh or other JWTs signed by the same key
            raise Unauthorized("Not an access token" if typ == "access" else f"Not a {typ} token")
        return claims

    def _remember(self, token: str, exp: float, user: User) -> None:
        self._cache[token] = (exp, user)
        if len(self._cache) > self.cache_size:
            oldest, _ = self._cache.popitem(last=False)
            self._jti.pop(oldest, None)
