"""The signed-in user's own profile, password and API keys. Every path acts
on the caller only: there is no user id to change."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from webos_auth.adapters.mongo import apikeys
from webos_auth.api.deps import Auth, SessionUser
from webos_auth.api.schemas import AccessRequest, ApiKeyCreate, MeUpdate, OtpIn, PasswordChange, PasswordConfirm
from webos_auth.domain.users import public
from webos_auth.events import USER_UPDATED
from webos_auth.services import accounts
from webos_common.http.errors import BadRequest
from webos_common.security import CurrentUser
from webos_common.security.revocation import Revocation

router = APIRouter(prefix="/me", tags=["me"])


@router.get("")
async def me(user: CurrentUser, c: Auth) -> dict[str, Any]:
    doc = await c.users.get(user.id)
    return {**public(doc), "permissions": list(user.permissions), "via_api_key": bool(user.extra.get("api_key")),
            "otp_setup_required": await accounts.otp_setup_required(c, doc)}


@router.post("/2fa/setup")
async def otp_setup(user: SessionUser, c: Auth) -> dict[str, str]:
    """A new TOTP secret (and its otpauth:// URI for a QR code); on once `enable` gets a code."""
    return await c.twofactor.setup(await c.users.get(user.id))


@router.post("/2fa/enable")
async def otp_enable(body: OtpIn, user: SessionUser, c: Auth) -> dict[str, Any]:
    """Turn two-factor sign-in on with a code from the app; the recovery codes are shown once.
    The session goes on (its next refresh carries what a role requiring it grants); the next
    sign-in asks for a code."""
    codes = await c.twofactor.enable(await c.users.get(user.id), body.code)
    return {"status": "enabled", "recovery_codes": codes}


@router.post("/2fa/disable")
async def otp_disable(body: PasswordConfirm, user: SessionUser, c: Auth) -> dict[str, str]:
    doc = await c.users.get(user.id)
    if not await c.passwords.averify(doc.get("password_hash"), body.password):
        raise BadRequest("The password is wrong", details={"field": "password"})
    await c.twofactor.disable(doc, required=await c.roles.requiring_2fa(doc.get("roles", [])))
    return {"status": "disabled"}


@router.post("/2fa/recovery-codes")
async def otp_recovery_codes(body: OtpIn, user: SessionUser, c: Auth) -> dict[str, Any]:
    """New recovery codes (the old ones stop working), against a current code."""
    return {"recovery_codes": await c.twofactor.regenerate(await c.users.get(user.id), body.code)}


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
    await accounts.change_password(c, user.id, current=body.current_password, new=body.new_password)
    return {"status": "password_changed"}


@router.get("/api-keys")
async def list_keys(user: CurrentUser, c: Auth) -> list[dict[str, Any]]:
    return [apikeys.public(d) for d in await c.apikeys.list(user.id)]


@router.post("/api-keys", status_code=201)
async def create_key(body: ApiKeyCreate, user: SessionUser, c: Auth) -> dict[str, Any]:
    granted = await accounts.permissions_of(c, await c.users.get(user.id))
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


@router.post("/access-request", status_code=202)
async def request_access(body: AccessRequest, user: SessionUser, c: Auth) -> dict[str, Any]:
    """Ask the administrators for access: each is notified, with a link to the person's page."""
    await c.roles.check_known(body.permissions)
    told = await accounts.request_access(c, user.id, message=body.message, permissions=body.permissions)
    return {"status": "requested", "notified": told}
