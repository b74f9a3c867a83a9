"""The signed-in user's own profile, password and API keys. Every path acts
on the caller only: there is no user id to change."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from webos_auth import apikeys, service
from webos_auth.api.deps import Auth, SessionUser
from webos_auth.events import USER_UPDATED
from webos_auth.schemas import ApiKeyCreate, MeUpdate, PasswordChange
from webos_auth.users import public
from webos_common.security import CurrentUser
from webos_common.security.revocation import Revocation

router = APIRouter(prefix="/me", tags=["me"])


@router.get("")
async def me(user: CurrentUser, c: Auth) -> dict[str, Any]:
    doc = await c.users.get(user.id)
    return {**public(doc), "permissions": list(user.permissions), "via_api_key": bool(user.extra.get("api_key"))}


@router.patch("")
async def update_me(body: MeUpdate, user: SessionUser, c: Auth) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if body.username is not None:
        changes["username"] = body.username
    if body.profile is not None:
        current = (await c.users.get(user.id)).get("profile") or {}
        changes["profile"] = {**current, **body.profile.model_dump(exclude_unset=True)}
    doc = await c.users.update(user.id, changes)
    await c.events.emit(USER_UPDATED, public(doc))
    return public(doc)


@router.post("/password")
async def change_password(body: PasswordChange, user: SessionUser, c: Auth) -> dict[str, str]:
    await service.change_password(c, user.id, current=body.current_password, new=body.new_password)
    return {"status": "password_changed"}


@router.get("/api-keys")
async def list_keys(user: CurrentUser, c: Auth) -> list[dict[str, Any]]:
    return [apikeys.public(d) for d in await c.apikeys.list(user.id)]


@router.post("/api-keys", status_code=201)
async def create_key(body: ApiKeyCreate, user: SessionUser, c: Auth) -> dict[str, Any]:
    granted = await service.permissions_of(c, await c.users.get(user.id))
    if "superadmin" in user.roles or "admin" in user.roles:
        granted = ["*"]
    key, doc = await c.apikeys.create(user.id, granted, name=body.name, permissions=body.permissions,
                                      expires_in_days=body.expires_in_days)
    return {**apikeys.public(doc), "key": key}


@router.delete("/api-keys/{key_id}")
async def revoke_key(key_id: str, user: CurrentUser, c: Auth) -> dict[str, Any]:
    revoked = await c.apikeys.revoke(user.id, key_id)
    await c.events.revoke(Revocation(key_id=key_id, until=time.time() + 3600))  # out of every key cache now
    return apikeys.public(revoked)
