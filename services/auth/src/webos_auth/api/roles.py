"""Roles, the permissions services and modules declare, and the audit trail of changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from webos_auth.api.deps import Auth
from webos_auth.api.schemas import PermissionsDeclare, RoleCreate, RoleUpdate
from webos_auth.domain.permissions import covered
from webos_common.http.errors import Forbidden
from webos_common.identity import User
from webos_common.security import CurrentUser, require_permission

router = APIRouter(tags=["roles"])
Reader = Annotated[User, Depends(require_permission("auth.roles.read"))]
Writer = Annotated[User, Depends(require_permission("auth.roles.write"))]


def _only_what_you_hold(permissions: list[str] | None, caller: User) -> None:
    """A delegated role manager cannot hand out more than they hold themselves."""
    if not permissions or caller.is_admin:
        return
    outside = [p for p in permissions if not covered(p, list(caller.permissions))]
    if outside:
        raise Forbidden("A role cannot grant permissions you do not hold", details={"not_granted": outside})


def _role(doc: dict[str, Any]) -> dict[str, Any]:
    return {"name": doc["_id"], "description": doc.get("description", ""), "permissions": doc.get("permissions", []),
            "builtin": bool(doc.get("builtin")), "require_2fa": bool(doc.get("require_2fa"))}


@router.get("/roles")
async def list_roles(c: Auth, _: Reader) -> list[dict[str, Any]]:
    return [_role(d) for d in await c.roles.every()]


@router.post("/roles", status_code=201)
async def create_role(body: RoleCreate, c: Auth, caller: Writer) -> dict[str, Any]:
    await c.roles.check_known(body.permissions)
    _only_what_you_hold(body.permissions, caller)
    doc = await c.roles.create(body.name, body.description, body.permissions, body.require_2fa)
    await c.audit.record(caller, "role.created", f"role:{body.name}", permissions=doc["permissions"])
    return _role(doc)


@router.get("/roles/{name}")
async def get_role(name: str, c: Auth, _: Reader) -> dict[str, Any]:
    return _role(await c.roles.get(name))


@router.patch("/roles/{name}")
async def update_role(name: str, body: RoleUpdate, c: Auth, caller: Writer) -> dict[str, Any]:
    if body.permissions is not None:
        await c.roles.check_known(body.permissions)
    _only_what_you_hold(body.permissions, caller)
    before = await c.roles.get(name)
    changes = body.model_dump(exclude_unset=True, exclude={"name"})
    if changes:
        before = await c.roles.update(name, changes)
    if body.name is not None and body.name != name:
        before = await c.roles.rename(name, body.name, c.users.collection)
        await c.audit.record(caller, "role.renamed", f"role:{body.name}", old_name=name)
    role = _role(before)
    if changes:
        await c.audit.record(caller, "role.updated", f"role:{role['name']}", **changes)
    return role


@router.delete("/roles/{name}")
async def delete_role(name: str, c: Auth, caller: Writer) -> dict[str, str]:
    await c.roles.delete(name, c.users.collection)
    await c.audit.record(caller, "role.deleted", f"role:{name}")
    return {"status": "deleted"}


@router.get("/permissions")
async def list_permissions(c: Auth, _: CurrentUser, module: str | None = None) -> list[dict[str, Any]]:
    """Every permission a kernel service or installed module declares (any signed-in person may
    read what exists: the first-day page shows what the platform offers)."""
    return [{"name": d["_id"], "module": d["module"], "group": d.get("group") or d["module"],
             "description": d.get("description", ""), "default": bool(d.get("default"))}
            for d in await c.roles.known(module)]


@router.post("/permissions", status_code=204)
async def declare_permissions(body: PermissionsDeclare, c: Auth,
                              _: Annotated[User, Depends(require_permission("auth.permissions.write"))]) -> None:
    await c.roles.declare(body.module, [p.model_dump() for p in body.permissions])


@router.get("/audit")
async def audit_trail(c: Auth, _: Reader, target: Annotated[str | None, Query(max_length=100)] = None,
                      skip: Annotated[int, Query(ge=0)] = 0,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """Who changed which role or whose roles, when, and what (newest first)."""
    items, total = await c.audit.page(target=target, skip=skip, limit=limit)
    return {"items": items, "total": total, "skip": skip, "limit": limit, "has_more": skip + len(items) < total}
