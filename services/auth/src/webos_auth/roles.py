"""Roles hold permissions named `<area>.<action>` (wildcards `area.*`, `*`);
modules declare the permissions they know so admins can assign them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from webos_common.errors import Conflict, Forbidden, NotFound
from webos_common.identity import PERSON_PERMISSIONS

PERMISSION_RE = re.compile(r"^(\*|[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?)$")
ROLE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")

BUILTIN_ROLES: dict[str, dict[str, Any]] = {
    "user": {"description": "Every signed-up person", "permissions": list(PERSON_PERMISSIONS)},
    "admin": {"description": "Manages users, roles and modules", "permissions": ["*"]},
    "superadmin": {"description": "Everything, including admins and signing keys", "permissions": ["*"]},
}
PRIVILEGED_ROLES = frozenset({"admin", "superadmin"})


class Roles:
    def __init__(self, roles: Any, permissions: Any) -> None:
        self.roles, self.permissions = roles, permissions

    async def ensure(self) -> None:
        now = datetime.now(UTC)
        for name, spec in BUILTIN_ROLES.items():
            await self.roles.update_one(
                {"_id": name},
                {"$setOnInsert": {"description": spec["description"], "permissions": spec["permissions"],
                                  "created_at": now}, "$set": {"builtin": True}},
                upsert=True,
            )
        # installations from before the kernel areas checked permissions: grant them once
        await self.roles.update_one(
            {"_id": "user", "person_permissions": {"$ne": 1}},
            {"$addToSet": {"permissions": {"$each": list(PERSON_PERMISSIONS)}}, "$set": {"person_permissions": 1}},
        )

    async def list(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.roles.find({}, sort=[("_id", 1)])]

    async def get(self, name: str) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.roles.find_one({"_id": name})
        if doc is None:
            raise NotFound(f"No role {name}")
        return doc

    async def names(self) -> set[str]:
        return {doc["_id"] async for doc in self.roles.find({}, {"_id": 1})}

    async def create(self, name: str, description: str, permissions: list[str]) -> dict[str, Any]:
        doc = {"_id": name, "description": description, "permissions": sorted(set(permissions)),
               "builtin": False, "created_at": datetime.now(UTC)}
        if await self.roles.find_one({"_id": name}):
            raise Conflict(f"Role {name} already exists", details={"field": "name"})
        await self.roles.insert_one(doc)
        return doc

    async def update(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        if name == "superadmin" and "permissions" in changes:
            raise Forbidden("The superadmin role always holds every permission")
        if "permissions" in changes:
            changes["permissions"] = sorted(set(changes["permissions"]))
        doc: dict[str, Any] | None = await self.roles.find_one_and_update(
            {"_id": name}, {"$set": changes}, return_document=True)
        if doc is None:
            raise NotFound(f"No role {name}")
        return doc

    async def delete(self, name: str, users: Any) -> None:
        doc = await self.get(name)
        if doc.get("builtin"):
            raise Forbidden(f"Built-in role {name} cannot be deleted")
        await self.roles.delete_one({"_id": name})
        await users.update_many({"roles": name}, {"$pull": {"roles": name}})

    async def permissions_for(self, role_names: list[str]) -> list[str]:
        granted: set[str] = set()
        async for doc in self.roles.find({"_id": {"$in": list(role_names)}}, {"permissions": 1}):
            granted.update(doc.get("permissions", []))
        return sorted(granted)

    # module-declared permissions -------------------------------------------------

    async def declare(self, module: str, items: list[dict[str, str]]) -> None:
        now = datetime.now(UTC)
        for item in items:
            await self.permissions.update_one(
                {"_id": item["name"]},
                {"$set": {"module": module, "description": item.get("description", ""), "updated_at": now}},
                upsert=True,
            )

    async def known(self, module: str | None = None) -> list[dict[str, Any]]:
        query = {"module": module} if module else {}
        return [doc async for doc in self.permissions.find(query, sort=[("_id", 1)])]
