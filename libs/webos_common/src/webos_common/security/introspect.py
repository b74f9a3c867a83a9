"""API keys as bearer credentials: a key carries the `wos_` prefix and is
checked by asking auth's introspection endpoint (the only place that holds
the key hashes). The verifier caches the answer briefly, so a revoked key
stops working everywhere within `key_cache_ttl` seconds."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import httpx

from webos_common.http.errors import Unavailable

API_KEY_PREFIX = "wos_"
JWKS_SUFFIX = "/.well-known/jwks.json"


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


class KeyIntrospector(Protocol):
    async def introspect(self, key: str) -> dict[str, Any] | None:
        """The claims of an active key (`sub`, `roles`, `permissions`, `exp`…), or None."""


class HttpKeyIntrospector:
    """POSTs `{"token": key}` to auth's `/introspect` (RFC 7662 style answer)."""

    def __init__(self, url: str, *, timeout: float = 3.0) -> None:
        self.url = url
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_jwks_url(cls, jwks_url: str) -> HttpKeyIntrospector:
        """Auth's introspection URL next to its JWKS (direct or behind the gateway)."""
        base = jwks_url[: -len(JWKS_SUFFIX)] if jwks_url.endswith(JWKS_SUFFIX) else jwks_url.rsplit("/", 1)[0]
        return cls(f"{base.rstrip('/')}/introspect")

    async def introspect(self, key: str) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # a client belongs to one event loop
            self._client, self._loop = httpx.AsyncClient(timeout=self.timeout), loop
        try:
            resp = await self._client.post(self.url, json={"token": key})
        except httpx.HTTPError as exc:
            raise Unavailable("Could not check the API key with auth") from exc
        if resp.status_code != 200:
            if resp.status_code >= 500:
                raise Unavailable("Could not check the API key with auth")
            return None
        try:
            body: dict[str, Any] = resp.json()
        except ValueError:
            return None
        return body if body.get("active") is True and "sub" in body else None
