"""The platform through the gateway as a signed-in person, for a server that acts for many
people (the shell): each call names the person's `tokens`, a mutable mapping the server keeps
per person (`access_token`, `refresh_token`; one the server's replicas share offers `sync()`
and `flushed()`, awaited around a refresh). A 401 triggers one silent refresh (auth rotates
the refresh token; the new pair is kept in `tokens`) and a retry; when that fails too,
`SessionExpired`. Any other error answer is an `ApiError` with the status and the whole body
(the shape module components know as `ShellApiError`); the gateway out of reach is a 503 one.

    platform = SessionClient(gateway_url)
    await platform.login(tokens, "ann", "secret")
    tasks = await platform.get(tokens, "/api/tasks", limit=20)
    await platform.send(tokens, "PATCH", "/api/settings/me/shell", {"theme": "dark"})
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import httpx

from webos_common.clients.base import ServiceClient
from webos_common.modules.shell_sdk import ShellApiError
from webos_common.security.permissions import READ_METHODS

Tokens = MutableMapping[str, Any]

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"


def if_match(version: int | None) -> dict[str, str] | None:
    """The header that makes a write apply only over `version` of a record (its ETag; the
    platform answers 412 with the current version when the record changed since); None: none."""
    return None if version is None else {"If-Match": f'"{version}"'}


class ApiError(ShellApiError):
    """An error answer: `status`, `body` (the JSON answer, or `{"detail": text}`), `message`."""


class SessionExpired(ApiError):
    """The person must sign in again: the access token was refused and no refresh helped."""


def error_code(exc: ApiError) -> str | None:
    """The platform's error code (`{"error": {"code"}}`) of an error answer, if it has one."""
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else None


def answer_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"detail": response.text[:300]}


async def _shared(tokens: Tokens, step: str) -> None:
    """`tokens.sync()` (read the latest) or `tokens.flushed()` (wait until written) when `tokens` is a
    store several processes share (the shell's sessions: `webos_shell.sessions`); nothing for a dict."""
    call = getattr(tokens, step, None)
    if call is not None:
        await call()


class SessionClient(ServiceClient):
    service = "the gateway"

    def __init__(self, gateway_url: str, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(gateway_url, timeout=timeout, transport=transport)
        self._locks: dict[str, asyncio.Lock] = {}
        self.wrote: Callable[[str, str], None] | None = None  # (method, path) after each accepted write

    def _gone(self, exc: httpx.TransportError) -> Exception:
        unavailable = super()._gone(exc)
        return ApiError(503, {"error": {"code": "unavailable", "message": str(unavailable)}})

    # -- the session ------------------------------------------------------------
    async def login(self, tokens: Tokens, login: str, password: str, otp: str | None = None) -> None:
        body = {"login": login, "password": password, **({"otp": otp} if otp else {})}
        response = await self._send("POST", LOGIN, json=body)
        if response.status_code != 200:
            raise ApiError(response.status_code, answer_body(response))
        self._keep(tokens, response.json())
        tokens.pop("signed_out_reason", None)
        await _shared(tokens, "flushed")  # signed in on every replica before the page moves on

    async def refresh(self, tokens: Tokens, *, stale: str | None = None) -> bool:
        """Swap the refresh token for a new pair. Concurrent callers share one
        exchange: auth rotates refresh tokens; a second use is theft unless it races
        the first within a few seconds (`refresh_reuse_grace`)."""
        used = tokens.get("refresh_token")
        if not used:
            return False
        lock = self._locks.setdefault(used, asyncio.Lock())
        async with lock:
            await _shared(tokens, "sync")  # `tokens` shared by replicas: another one may have refreshed
            if tokens.get("refresh_token") != used or (stale and tokens.get("access_token") != stale):
                return True  # another call refreshed while this one waited
            response = await self._send("POST", REFRESH, json={"refresh_token": used})
            if response.status_code != 200:
                error = ApiError(response.status_code, answer_body(response))
                if error_code(error) == "signed_out_by_admin":  # told on the sign-in page
                    tokens["signed_out_reason"] = error.message
                return False
            self._keep(tokens, response.json())
            await _shared(tokens, "flushed")  # and the other replicas find the new pair before using the old
        self._locks.pop(used, None)
        return True

    async def logout(self, tokens: Tokens) -> None:
        try:
            await self._send("POST", LOGOUT, json={"refresh_token": tokens.get("refresh_token")},
                             headers=self._bearer(tokens))
        except ApiError:
            pass
        for key in ("access_token", "refresh_token"):
            tokens.pop(key, None)

    @staticmethod
    def _keep(tokens: Tokens, body: Mapping[str, Any]) -> None:
        tokens["access_token"] = body["access_token"]
        if body.get("refresh_token"):
            tokens["refresh_token"] = body["refresh_token"]

    @staticmethod
    def _bearer(tokens: Tokens) -> dict[str, str]:
        token = tokens.get("access_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    # -- calls as the person ----------------------------------------------------
    async def answer(self, tokens: Tokens, method: str, path: str, *, headers: dict[str, str] | None = None,
                     **kwargs: Any) -> httpx.Response:
        """The raw answer to one call as the person (refreshed and retried once on a 401); the
        caller reads its status. `content` may be a factory, so the retry can send a stream again."""
        sent = tokens.get("access_token")
        response = await self._send(method, path, headers={**self._bearer(tokens), **(headers or {})}, **kwargs)
        if response.status_code == 401 and await self.refresh(tokens, stale=sent):
            response = await self._send(method, path, headers={**self._bearer(tokens), **(headers or {})},
                                        **kwargs)
        return response

    async def request(self, tokens: Tokens, method: str, path: str, *, headers: dict[str, str] | None = None,
                      **kwargs: Any) -> Any:
        """One call as the person: the JSON answer (None when empty); `SessionExpired` on a 401
        no refresh helped, `ApiError` on any other error status."""
        response = await self.answer(tokens, method, path, headers=headers, **kwargs)
        if response.status_code == 401:
            raise SessionExpired(401, answer_body(response))
        if response.status_code >= 400:
            raise ApiError(response.status_code, answer_body(response))
        if self.wrote is not None and method.upper() not in READ_METHODS:
            self.wrote(method, path)
        if response.status_code == 204 or not response.content:
            return None
        return answer_body(response)

    async def get(self, tokens: Tokens, path: str, **params: Any) -> Any:
        return await self.request(tokens, "GET", path, params=params or None)

    async def send(self, tokens: Tokens, method: str, path: str, body: Any = None, *,
                   headers: dict[str, str] | None = None) -> Any:
        return await self.request(tokens, method, path, json=body, headers=headers)
