"""Roles and the permissions modules declare."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from webos_auth.api.deps import Auth
from webos_auth.apikeys import covered
from webos_auth.schemas import PermissionsDeclare, RoleCreate, RoleUpdate
from webos_common.errors import Forbidden
from webos_common.identity import User
from webos_common.security import require_permission

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
            "builtin": bool(doc.get("builtin"))}


@router.get("/roles")
async def list_roles(c: Auth, _: Reader) -> list[dict[str, Any]]:
    return [_role(d) for d in await c.roles.list()]


@router.post("/roles", status_code=201)
async def create_role(body: RoleCreate, c: Auth, caller: Writer) -> dict[str, Any]:
    _only_what_you_hold(body.permissions, caller)
    return _role(await c.roles.create(body.name, body.description, body.permissions))


@router.get("/roles/{name}")
async def get_role(name: str, c: Auth, _: Reader) -> dict[str, Any]:
    return _role(await c.roles.get(name))


@router.patch("/roles/{name}")
async def update_role(name: str, body: RoleUpdate, c: Auth, caller: Writer) -> dict[str, Any]:
    _only_what_you_hold(body.permissions, caller)
    return _role(await c.roles.update(name, body.model_dump(exclude_unset=True)))


@router.delete("/roles/{name}")
async def delete_role(name: str, c: Auth, _: Writer) -> dict[str, str]:
    await c.roles.delete(name, c.users.collection)
    return {"status": "deleted"}


@router.get("/permissions")
async def list_permissions(c: Auth, _: Reader, module: str | None = None) -> list[dict[str, Any]]:
    return [{"name": d["_id"], "module": d["module"], "description": d.get("description", "")}
            for d in await c.roles.known(module)]


@router.post("/permissions", status_code=204)
async def declare_permissions(body: PermissionsDeclare, c: Auth,
                              _: Annotated[User, Depends(require_permission("auth.permissions.write"))]) -> None:
    await c.roles.declare(body.module, [p.model_dump() for p in body.permissions])
