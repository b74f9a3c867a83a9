"""Where verification keys come from: auth's JWKS over HTTP (cached,
refetched on an unknown `kid` at most once per interval), or a static set."""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from typing import Any, Protocol

import httpx
from loguru import logger

from webos_common.http.errors import Unavailable


class JWKSSource(Protocol):
    async def get_key(self, kid: str) -> dict[str, Any] | None:
        """The public JWK with this key id, or None."""


class StaticJWKS:
    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = {k["kid"]: k for k in jwks.get("keys", [])}

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        return self._keys.get(kid)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle is what made each fetch slow."""
    return ssl.create_default_context()


class HttpJWKS:
    def __init__(self, url: str, *, min_refetch_interval: float = 5.0, timeout: float = 3.0) -> None:
        self.url = url
        self.min_refetch_interval = min_refetch_interval
        self.timeout = timeout
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self.unreachable: str | None = None  # why the last fetch failed

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self.min_refetch_interval:
                await self._fetch()
        key = self._keys.get(kid)
        if key is None and self.unreachable is not None:  # an outage, not a forged token: 503, not 401
            raise Unavailable(f"auth's JWKS at {self.url} is unreachable", details={"dependency": "auth JWKS"})
        return key

    async def load(self) -> None:
        """Fetch the keys now; ConnectionError (naming why) while auth's JWKS does not answer."""
        async with self._lock:
            await self._fetch(log=False)  # the caller's retry loop says it, once an attempt
        if self.unreachable is not None:
            raise ConnectionError(self.unreachable)
        if not self._keys:
            raise ConnectionError(f"auth's JWKS at {self.url} holds no key")

    async def _fetch(self, *, log: bool = True) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=_ssl_context()) as client:
                resp = await client.get(self.url)
                resp.raise_for_status()
                self._keys = {k["kid"]: k for k in resp.json().get("keys", []) if "kid" in k}
            self.unreachable = None
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:  # at most once per refetch interval
            self.unreachable = f"{type(exc).__name__}: {exc}"
            if log:
                logger.warning("auth's JWKS at {} not reachable: {}", self.url, self.unreachable)
        except (ValueError, KeyError):
            return
