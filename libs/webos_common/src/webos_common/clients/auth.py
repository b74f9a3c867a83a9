"""Async client of the auth service: who someone is, for modules and services.

    async with AuthClient(f"{gateway}/api/auth", token=token) as auth:
        me = await auth.me()
        ann = await auth.user(user_id)                # needs auth.users.read
        page = await auth.users(q="ann", role="editor")
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from nats.aio.client import Client as NATS
from pydantic import BaseModel, ConfigDict

from webos_common.clients.base import ServiceClient, params
from webos_common.documents.ports import Page
from webos_common.http.errors import Unavailable

T = TypeVar("T")


CONTACTS_SUBJECT = "webos.auth.users.contacts"


async def contacts(nc: NATS, ids: Iterable[str], *, wait: float = 2.0) -> dict[str, dict[str, Any]]:
    """`{user id: {email, username, active}}` from auth over NATS (for the platform's own services;
    unknown ids are absent). Raises `Unavailable` when auth does not answer."""
    try:
        msg = await nc.request(CONTACTS_SUBJECT, json.dumps({"ids": sorted(set(ids))}).encode(), timeout=wait)
        answer = json.loads(msg.data)
    except Exception as exc:
        raise Unavailable(f"auth did not answer a contacts request: {exc!r}") from exc
    if "error" in answer:
        raise Unavailable(str(answer["error"].get("message")))
    users: dict[str, dict[str, Any]] = answer.get("users") or {}
    return users


class UserInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    username: str
    email: str
    roles: list[str] = []
    active: bool = True
    verified: bool = False
    profile: dict[str, Any] = {}
    created_at: datetime | None = None
    last_login: datetime | None = None




class AuthClient(ServiceClient):
    service = "auth"

    async def me(self) -> UserInfo:
        """The token's own user (with `permissions`)."""
        return UserInfo.model_validate(await self._json("GET", "/me"))

    async def user(self, user_id: str) -> UserInfo:
        return UserInfo.model_validate(await self._json("GET", f"/users/{user_id}"))

    async def users(self, *, q: str | None = None, role: str | None = None, active: bool | None = None,
                    skip: int = 0, limit: int = 50) -> Page[UserInfo]:
        query = params(q=q, role=role, active=active, skip=skip, limit=limit)
        return Page[UserInfo].model_validate(await self._json("GET", "/users", params=query))

    async def update_user(self, user_id: str, **changes: Any) -> UserInfo:
        """Admin change of a user (`roles=`, `active=`, `profile=`, …); needs auth.users.write."""
        return UserInfo.model_validate(await self._json("PATCH", f"/users/{user_id}", json=changes))
