"""The directory every signed-in person may read: who is here and which roles exist, for
the shell's user and role pickers and for modules that share a record with a person or a
role (an unknown id is a 404). Only names, never e-mail addresses or secrets."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query

from webos_auth.api.deps import Auth
from webos_common.security import CurrentUser

router = APIRouter(prefix="/directory", tags=["directory"])


def person(doc: dict[str, Any]) -> dict[str, Any]:
    profile = doc.get("profile") or {}
    return {"id": doc["_id"], "username": doc["username"],
            "display_name": profile.get("display_name") or doc["username"], "active": doc.get("active", True)}


@router.get("/people")
async def people(c: Auth, _: CurrentUser, q: Annotated[str | None, Query(max_length=100)] = None,
                 ids: Annotated[list[str] | None, Query(max_length=200)] = None,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """Active people whose name matches `q` (literal text), or those with the given `ids`."""
    query: dict[str, Any] = {"active": True}
    if ids:
        query["_id"] = {"$in": ids}
    if q:
        pattern = {"$regex": re.escape(q), "$options": "i"}
        query["$or"] = [{"username": pattern}, {"profile.display_name": pattern}]
    found = [person(d) async for d in c.users.collection.find(query, sort=[("username", 1)], limit=limit)]
    return {"items": found}


@router.get("/people/{user_id}")
async def one_person(user_id: str, c: Auth, _: CurrentUser) -> dict[str, Any]:
    return person(await c.users.get(user_id))


@router.get("/roles")
async def roles(c: Auth, _: CurrentUser) -> dict[str, Any]:
    return {"items": [{"name": d["_id"], "description": d.get("description", "")} for d in await c.roles.every()]}


@router.get("/roles/{name}")
async def one_role(name: str, c: Auth, _: CurrentUser) -> dict[str, Any]:
    doc = await c.roles.get(name)
    return {"name": doc["_id"], "description": doc.get("description", "")}
