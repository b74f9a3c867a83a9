"""Admin user management: list (paginated, searchable), create, read,
update, delete, unlock, invite. Only a superadmin touches admins or grants
privileged roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from webos_auth import service
from webos_auth.api.deps import Auth
from webos_auth.events import USER_CREATED, USER_DELETED, USER_UPDATED
from webos_auth.roles import PRIVILEGED_ROLES
from webos_auth.schemas import InviteIn, UserCreate, UserUpdate
from webos_auth.users import public
from webos_common.errors import Forbidden, ValidationFailed
from webos_common.identity import User
from webos_common.paging import Skip
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
    await c.events.emit(USER_CREATED, public(user))
    return public(user)


@router.post("/invite", status_code=202)
async def invite(body: InviteIn, c: Auth, caller: Writer) -> dict[str, str]:
    await _check_roles(c, body.roles, caller)
    await service.invite(c, email=body.email, roles=body.roles)
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
    if body.password is not None:
        c.passwords.check(body.password, username=body.username or target["username"],
                          email=body.email or target["email"])
        changes["password_hash"] = await c.passwords.ahash(body.password)
    if body.profile is not None:
        changes["profile"] = {**(target.get("profile") or {}), **body.profile.model_dump(exclude_unset=True)}
    user = await c.users.update(user_id, changes)
    if body.active is False or body.password is not None or body.roles is not None:
        await c.tokens.revoke_user(user_id)
        # tokens already out carry the old roles (or a disabled account): refused everywhere now
        await c.events.revoke(user_revocation(user_id, max_token_age=c.settings.access_token_ttl))
    await c.events.emit(USER_UPDATED, public(user))
    return public(user)


@router.delete("/{user_id}")
async def delete_user(user_id: str, c: Auth, caller: Writer) -> dict[str, str]:
    if user_id == caller.id:
        raise Forbidden("You cannot delete your own account here")
    _guard_target(await c.users.get(user_id), caller)
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
