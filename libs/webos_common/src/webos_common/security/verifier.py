"""JWT verification, local and cheap: RS256 only, issuer, audience, expiry,
signature against the JWKS key named by `kid`. Verified tokens are cached
until shortly before they expire, so a repeated token costs a dict lookup."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from webos_common.errors import Unauthorized
from webos_common.identity import User
from webos_common.security.jwks import JWKSSource

ALGORITHMS = ["RS256"]


def user_from_claims(claims: dict[str, Any]) -> User:
    return User(
        id=str(claims["sub"]),
        username=str(claims.get("preferred_username") or claims.get("username") or ""),
        email=claims.get("email"),
        roles=tuple(claims.get("roles") or ()),
        permissions=tuple(claims.get("permissions") or ()),
    )


class TokenVerifier:
    def __init__(self, jwks: JWKSSource, *, issuer: str, audience: str, leeway: int = 5,
                 cache_size: int = 10_000) -> None:
        self.jwks = jwks
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
        claims = await self.claims(token)
        user = user_from_claims(claims)
        self._remember(token, float(claims["exp"]), user)
        return user

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
        if claims.get("typ", "access") != "access":
            raise Unauthorized("Not an access token")
        return claims

    def _remember(self, token: str, exp: float, user: User) -> None:
        self._cache[token] = (exp, user)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
