"""The person's session: tokens in NiceGUI's per-user storage (shared by the shell's replicas:
`webos_shell.sessions`), the user
verified locally from the access token (refreshed silently when it has
expired), and the guard every page starts with."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app

from webos_common.http.errors import WebOSError
from webos_common.identity import User
from webos_shell import runtime


def tokens() -> Any:
    return app.storage.user


async def current_user() -> User | None:
    rt = runtime.get()
    store = tokens()
    token = store.get("access_token")
    if not token or rt.verifier is None:
        return None
    try:
        return await rt.verifier.verify(token)
    except WebOSError:
        pass
    try:
        if not await rt.gateway.refresh(store, stale=token):
            return None
        return await rt.verifier.verify(store["access_token"])
    except Exception:  # noqa: BLE001 - any failure means signing in again
        return None


def seconds_left(token: str) -> int:
    """The token's remaining lifetime (read from `exp`; the caller verified it)."""
    try:
        body = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return max(0, int(claims["exp"] - time.time()))
    except (IndexError, KeyError, ValueError, TypeError):
        return 60


async def fresh_access_token(min_seconds: int) -> str | None:
    """The person's access token, refreshed first when it has less than `min_seconds` left: one
    handed on (to a module's frame) must outlive the requests made with it. None: signed out."""
    if await current_user() is None:
        return None
    store = tokens()
    token: str | None = store.get("access_token")
    if token and seconds_left(token) < min_seconds:
        with contextlib.suppress(Exception):  # the current one is still valid: it is used as it is
            if await runtime.get().gateway.refresh(store, stale=token):
                token = store["access_token"]
    return token


NOTICES = {"password_changed": "Your password is changed. Sign in with the new one.",
           "signed_out": "You are signed out.", "session_expired": "Your session ended. Sign in again."}


def login_url(next_path: str, notice: str | None = None) -> str:
    """The sign-in page, back to `next_path` afterwards; `notice` (a key of NOTICES) is shown there."""
    extra = f"&notice={notice}" if notice in NOTICES else ""
    return f"/login?next={quote(next_path, safe='')}{extra}"


def safe_next(value: str | None) -> str:
    """Only a local path: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def adopt_cookies(request: Request | None) -> None:
    """After an SSO sign-in auth sets `access_token`/`refresh_token` cookies on
    the one origin; the shell takes them into the person's storage."""
    store = tokens()
    if request is None or store.get("access_token"):
        return
    for key in ("access_token", "refresh_token"):
        if request.cookies.get(key):
            store[key] = request.cookies[key]


async def require(path: str, request: Request | None = None) -> User | RedirectResponse:
    """The signed-in user, or a redirect to sign-in that comes back to `path`."""
    adopt_cookies(request)
    user = await current_user()
    if user is None:
        return RedirectResponse(login_url(path), status_code=303)
    return user
