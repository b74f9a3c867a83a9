"""JWT verification, local and cheap: RS256 only, issuer, audience, expiry,
signature against the JWKS key named by `kid`. Verified tokens are cached
until they expire, so a repeated token costs a dict lookup.

Bearer values with the `wos_` prefix are API keys: they are introspected
against auth (see `introspect.py`) and cached for `key_cache_ttl` seconds."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from webos_common.errors import Unauthorized
from webos_common.identity import User
from webos_common.security.introspect import HttpKeyIntrospector, KeyIntrospector, is_api_key
from webos_common.security.jwks import HttpJWKS, JWKSSource

ALGORITHMS = ["RS256"]


def user_from_claims(claims: dict[str, Any]) -> User:
    return User(
        id=str(claims["sub"]),
        username=str(claims.get("preferred_username") or claims.get("username") or ""),
        email=claims.get("email"),
        roles=tuple(claims.get("roles") or ()),
        permissions=tuple(claims.get("permissions") or ()),
        extra={"api_key": str(claims["key_id"])} if claims.get("key_id") else {},
    )


class TokenVerifier:
    def __init__(self, jwks: JWKSSource, *, issuer: str, audience: str, leeway: int = 5,
                 cache_size: int = 10_000, introspector: KeyIntrospector | None = None,
                 key_cache_ttl: float = 30.0) -> None:
        self.jwks = jwks
        if introspector is None and isinstance(jwks, HttpJWKS):
            introspector = HttpKeyIntrospector.from_jwks_url(jwks.url)
        self.introspector = introspector
        self.key_cache_ttl = key_cache_ttl
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, User]] = OrderedDict()

    async def verify(self, token: str) -> User:
        """The user a valid access token names; `Unauthorized` otherwise."""
        hit = self._cache.get(token)
        if hit is not None:
            if hit[0] > time.time():
                return hit[1]
            self._cache.pop(token, None)
        if is_api_key(token):
            return await self._verify_key(token)
        claims = await self.claims(token)
        user = user_from_claims(claims)
        self._remember(token, float(claims["exp"]), user)
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

    async def claims(self, token: str) -> dict[str, Any]:
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
                token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                options={"require_exp": True, "require_sub": True, "require_iat": False,
                         "leeway": self.leeway},
            )
        except JOSEError as exc:
            raise Unauthorized(f"Invalid token: {exc}") from exc
        if claims.get("typ") != "access":  # ID tokens, refresh or other JWTs signed by the same key
            raise Unauthorized("Not an access token")
        return claims

    def _remember(self, token: str, exp: float, user: User) -> None:
        self._cache[token] = (exp, user)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
