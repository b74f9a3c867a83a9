"""Calls to the platform, server-side, through the gateway with the
person's token. A 401 triggers one silent refresh (the refresh token is
rotated and kept) and a retry; when that fails too, `SessionExpired`."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import httpx

from webos_common.shell_sdk import ShellApiError
from webos_shell import endpoints

Tokens = MutableMapping[str, Any]


class ApiError(ShellApiError):
    """An error answer; module components catch it as `ShellApiError`."""


class SessionExpired(ApiError):
    pass


def error_code(exc: ApiError) -> str | None:
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"detail": response.text[:300]}


class Gateway:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        await self.http.aclose()

    # -- sign-in --------------------------------------------------------------
    async def login(self, tokens: Tokens, login: str, password: str, otp: str | None = None) -> None:
        body = {"login": login, "password": password, **({"otp": otp} if otp else {})}
        response = await self.http.post(endpoints.LOGIN, json=body)
        if response.status_code != 200:
            raise ApiError(response.status_code, _body(response))
        self._keep(tokens, response.json())
        tokens.pop("signed_out_reason", None)

    async def refresh(self, tokens: Tokens, *, stale: str | None = None) -> bool:
        """Swap the refresh token for a new pair. Concurrent callers share one
        exchange: auth rotates refresh tokens; a second use is theft unless it races
        the first within a few seconds (`refresh_reuse_grace`)."""
        used = tokens.get("refresh_token")
        if not used:
            return False
        lock = self._locks.setdefault(used, asyncio.Lock())
        async with lock:
            if tokens.get("refresh_token") != used or (stale and tokens.get("access_token") != stale):
                return True  # another call refreshed while this one waited
            response = await self.http.post(endpoints.REFRESH, json={"refresh_token": used})
            if response.status_code != 200:
                error = ApiError(response.status_code, _body(response))
                if error_code(error) == "signed_out_by_admin":  # told on the sign-in page
                    tokens["signed_out_reason"] = error.message
                return False
            self._keep(tokens, response.json())
        self._locks.pop(used, None)
        return True

    async def logout(self, tokens: Tokens) -> None:
        try:
            await self.http.post(endpoints.LOGOUT, json={"refresh_token": tokens.get("refresh_token")},
                                 headers=self._auth(tokens))
        except httpx.HTTPError:
            pass
        for key in ("access_token", "refresh_token"):
            tokens.pop(key, None)

    @staticmethod
    def _keep(tokens: Tokens, body: dict[str, Any]) -> None:
        tokens["access_token"] = body["access_token"]
        if body.get("refresh_token"):
            tokens["refresh_token"] = body["refresh_token"]

    @staticmethod
    def _auth(tokens: Tokens) -> dict[str, str]:
        token = tokens.get("access_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    # -- calls ----------------------------------------------------------------
    async def request(self, tokens: Tokens, method: str, path: str, *, headers: dict[str, str] | None = None,
                      content: Any = None, **kwargs: Any) -> Any:
        """One call as the person: `headers` join the bearer token; `content` may be a
        zero-argument callable giving a fresh body, so the retry after a refresh can
        send a stream again."""
        sent = tokens.get("access_token")

        async def attempt() -> httpx.Response:
            body = content() if callable(content) else content
            return await self.http.request(method, path, headers={**self._auth(tokens), **(headers or {})},
                                           content=body, **kwargs)

        response = await attempt()
        if response.status_code == 401:
            if not await self.refresh(tokens, stale=sent):
                raise SessionExpired(401, _body(response))
            response = await attempt()
            if response.status_code == 401:
                raise SessionExpired(401, _body(response))
        if response.status_code >= 400:
            raise ApiError(response.status_code, _body(response))
        if response.status_code == 204 or not response.content:
            return None
        return _body(response)

    async def get(self, tokens: Tokens, path: str, **params: Any) -> Any:
        return await self.request(tokens, "GET", path, params=params or None)

    async def send(self, tokens: Tokens, method: str, path: str, body: Any = None) -> Any:
        return await self.request(tokens, method, path, json=body)
