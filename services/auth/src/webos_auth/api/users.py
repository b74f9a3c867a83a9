"""Admin user management: list (paginated, searchable), create, read,
update, delete, unlock, invite. Only a superadmin touches admins or grants
privileged roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from webos_auth.api.deps import Auth
from webos_auth.api.schemas import InviteIn, UserCreate, UserUpdate
from webos_auth.domain.permissions import PRIVILEGED_ROLES
from webos_auth.domain.users import public
from webos_auth.events import USER_CREATED, USER_DELETED, USER_UPDATED
from webos_auth.services import accounts
from webos_common.http.errors import Forbidden, ValidationFailed
from webos_common.http.paging import Skip
from webos_common.identity import User
from webos_common.security import require_permission
from webos_common.security.revocation import user_revocation

router = APIRouter(prefix="/users", tags=["users"])
Reader = Annotated[User, Depends(require_permission("auth.users.read"))]
Writer = Annotated[User, Depends(require_permission("auth.users.write"))]


async def _check_roles(c: Any, roles: list[str], caller: User) -> None:
    unknown = sorted(set(roles) - await c.roles.names())
    if unknown:
        raise ValidationFailed(f"Unknown role(s): {', '.join(unknown)}",
                               details=[{"field": "roles", "location": "body", "message": f"unknown role {r}",
                                         "type": "unknown_role"} for r in unknown])
    if PRIVILEGED_ROLES.intersection(roles) and "superadmin" not in caller.roles:
        raise Forbidden("Only a superadmin grants admin roles")


def _guard_target(target: dict[str, Any], caller: User) -> None:
    if PRIVILEGED_ROLES.intersection(target.get("roles", [])) and "superadmin" not in caller.roles:
        raise Forbidden("Only a superadmin manages admin accounts")


async def _guard_role_change(c: Any, target: dict[str, Any], roles: list[str] | None, active: bool | None,
                             caller: User) -> None:
    """Nobody removes the last active superadmin, nor their own admin role."""
    before = set(target.get("roles", []))
    after = set(roles) if roles is not None else before
    if target["_id"] == caller.id and PRIVILEGED_ROLES & before - after:
        raise Forbidden("You cannot remove your own admin role", details={"field": "roles"})
    losing = "superadmin" in before and ("superadmin" not in after or active is False)
    if losing and target.get("active", True) and await c.users.count_with_role("superadmin") <= 1:
        raise Forbidden("The last superadmin cannot lose that role", details={"field": "roles"})


def _roles_changed_reason(roles: list[str]) -> str:
    return f"An administrator changed your roles (now: {', '.join(roles)}); please sign in again"


@router.get("")
async def list_users(c: Auth, _: Reader, q: Annotated[str | None, Query(max_length=100)] = None,
                     role: str | None = None, active: bool | None = None,
                     skip: Skip = 0,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    items, total = await c.users.search(q=q, role=role, active=active, skip=skip, limit=limit)
    return {"items": [public(u) for u in items], "total": total, "skip": skip, "limit": limit,
            "has_more": skip + len(items) < total}


@router.post("", status_code=201)
async def create_user(body: UserCreate, c: Auth, caller: Writer) -> dict[str, Any]:
    await _check_roles(c, body.roles, caller)
    c.passwords.check(body.password, username=body.username, email=body.email)
    profile = body.profile.model_dump(exclude_none=True) if body.profile else None
    user = await c.users.create(email=body.email, username=body.username, roles=body.roles,
                                password_hash=await c.passwords.ahash(body.password), profile=profile,
                                verified=body.verified)
    if not body.active:
        user = await c.users.update(user["_id"], {"active": False})
    await c.audit.record(caller, "user.created", f"user:{user['_id']}", username=user["username"],
                         after=user["roles"])
    await c.events.emit(USER_CREATED, public(user))
    return public(user)


@router.post("/invite", status_code=202)
async def invite(body: InviteIn, c: Auth, caller: Writer) -> dict[str, str]:
    await _check_roles(c, body.roles, caller)
    await accounts.invite(c, email=body.email, roles=body.roles)
    await c.audit.record(caller, "user.invited", f"email:{body.email.lower()}", after=sorted(set(body.roles)))
    return {"status": "invited"}


@router.get("/{user_id}")
async def get_user(user_id: str, c: Auth, _: Reader) -> dict[str, Any]:
    user = await c.users.get(user_id)
    return {**public(user), "locked_until": await c.throttle.locked_until(user_id)}


@router.patch("/{user_id}")
async def update_user(user_id: str, body: UserUpdate, c: Auth, caller: Writer) -> dict[str, Any]:
    target = await c.users.get(user_id)
    _guard_target(target, caller)
    changes = body.model_dump(exclude_unset=True, exclude={"password", "profile"})
    if body.roles is not None:
        await _check_roles(c, body.roles, caller)
        changes["roles"] = sorted(set(body.roles))
    if body.active is False and user_id == caller.id:
        raise Forbidden("You cannot disable your own account")
    await _guard_role_change(c, target, changes.get("roles"), body.active, caller)
    if body.password is not None:
        c.passwords.check(body.password, username=body.username or target["username"],
                          email=body.email or target["email"])
        changes["password_hash"] = await c.passwords.ahash(body.password)
    if body.profile is not None:
        changes["profile"] = {**(target.get("profile") or {}), **body.profile.model_dump(exclude_unset=True)}
    # the guards above judged the roles read here: a role change made meanwhile is a 409, not lost
    guard = {"roles": target["roles"]} if "roles" in changes and "roles" in target else None
    user = await c.users.update(user_id, changes, unchanged=guard)
    roles_changed = body.roles is not None and set(body.roles) != set(target.get("roles", []))
    if roles_changed:
        await c.audit.record(caller, "user.roles_changed", f"user:{user_id}", username=user["username"],
                             before=sorted(target.get("roles", [])), after=user["roles"])
    if body.active is False or body.password is not None or roles_changed:
        await c.tokens.revoke_user(user_id, reason=_roles_changed_reason(user["roles"]) if roles_changed else None)
        # tokens already out carry the old roles (or a disabled account): refused everywhere now
        await c.events.revoke(user_revocation(user_id, max_token_age=c.settings.access_token_ttl))
    await c.events.emit(USER_UPDATED, public(user))
    return public(user)


@router.delete("/{user_id}")
async def delete_user(user_id: str, c: Auth, caller: Writer) -> dict[str, str]:
    if user_id == caller.id:
        raise Forbidden("You cannot delete your own account here")
    target = await c.users.get(user_id)
    _guard_target(target, caller)
    await _guard_role_change(c, target, [], False, caller)
    user = await c.users.delete(user_id)
    await c.tokens.revoke_user(user_id)
    await c.apikeys.revoke_user(user_id)
    await c.events.revoke(user_revocation(user_id, max_token_age=c.settings.access_token_ttl))
    await c.events.emit(USER_DELETED, {"id": user["_id"], "username": user["username"], "email": user["email"]})
    return {"status": "deleted"}


@router.post("/{user_id}/unlock")
async def unlock_user(user_id: str, c: Auth, _: Writer) -> dict[str, str]:
    await c.users.get(user_id)
    await c.throttle.unlock(user_id)
    return {"status": "unlocked"}


@router.post("/{user_id}/sign-out")
async def sign_out_everywhere(user_id: str, c: Auth, caller: Writer) -> dict[str, str]:
    """End every session of the person now (their tokens are refused at once everywhere)."""
    _guard_target(await c.users.get(user_id), caller)
    await c.tokens.revoke_user(user_id, reason="An administrator signed you out everywhere")
    await c.events.revoke(user_revocation(user_id, max_token_age=c.settings.access_token_ttl))
    return {"status": "signed_out"}


@router.post("/{user_id}/reset-password", status_code=202)
async def send_password_reset(user_id: str, c: Auth, caller: Writer) -> dict[str, str]:
    """Mail the person a link to choose a new password (the admin never learns it)."""
    target = await c.users.get(user_id)
    _guard_target(target, caller)
    await accounts.forgot_password(c, target["email"])
    return {"status": "reset_sent"}
