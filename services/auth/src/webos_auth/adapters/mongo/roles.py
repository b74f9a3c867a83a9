"""Roles in MongoDB (`auth_roles`) and the permissions services and modules declare
(`auth_permissions`), so admins can assign them; the rules are in `domain.permissions`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webos_auth.domain.permissions import BUILTIN_ROLES, declared
from webos_common.http.errors import Conflict, Forbidden, NotFound, ValidationFailed
from webos_common.identity import PERSON_PERMISSIONS


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

    async def every(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.roles.find({}, sort=[("_id", 1)])]

    async def get(self, name: str) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.roles.find_one({"_id": name})
        if doc is None:
            raise NotFound(f"No role {name}")
        return doc

    async def names(self) -> set[str]:
        return {doc["_id"] async for doc in self.roles.find({}, {"_id": 1})}

    async def create(self, name: str, description: str, permissions: list[str],
                     require_2fa: bool = False) -> dict[str, Any]:
        doc = {"_id": name, "description": description, "permissions": sorted(set(permissions)),
               "builtin": False, "require_2fa": require_2fa, "created_at": datetime.now(UTC)}
        if await self.roles.find_one({"_id": name}):
            raise Conflict(f"Role {name} already exists", details={"field": "name"})
        await self.roles.insert_one(doc)
        return doc

    async def update(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        if name == "superadmin" and "permissions" in changes:
            raise Forbidden("The superadmin role always holds every permission")
        if name in BUILTIN_ROLES and changes.get("name", name) != name:
            raise Forbidden(f"Built-in role {name} cannot be renamed", details={"field": "name"})
        if "permissions" in changes:
            changes["permissions"] = sorted(set(changes["permissions"]))
        doc: dict[str, Any] | None = await self.roles.find_one_and_update(
            {"_id": name}, {"$set": changes}, return_document=True)
        if doc is None:
            raise NotFound(f"No role {name}")
        return doc

    async def rename(self, name: str, new: str, users: Any) -> dict[str, Any]:
        """The role under its new name, and every person who held it holds the new one."""
        doc = await self.get(name)
        if doc.get("builtin"):
            raise Forbidden(f"Built-in role {name} cannot be renamed", details={"field": "name"})
        if await self.roles.find_one({"_id": new}):
            raise Conflict(f"Role {new} already exists", details={"field": "name"})
        await self.roles.insert_one({**doc, "_id": new})
        await self.roles.delete_one({"_id": name})
        held = {"$setUnion": [{"$setDifference": ["$roles", [name]]}, [new]]}
        await users.update_many({"roles": name}, [{"$set": {"roles": {"$sortArray": {"input": held, "sortBy": 1}}}}])
        return {**doc, "_id": new}

    async def requiring_2fa(self, role_names: list[str]) -> list[str]:
        return [d["_id"] async for d in self.roles.find({"_id": {"$in": list(role_names)}, "require_2fa": True})]

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

    # declared permissions ------------------------------------------------------------

    async def declare(self, module: str, items: list[dict[str, Any]]) -> list[str]:
        """Record what `module` (a kernel service or a module) declares; grant each `default`
        permission to the `user` role the first time it is declared (once across replicas, so
        an admin who later takes it away is not overruled). Returns the names granted now."""
        now = datetime.now(UTC)
        granted = []
        for item in items:
            name = item["name"]
            await self.permissions.update_one(
                {"_id": name},
                {"$set": {"module": module, "group": item.get("group") or module,
                          "description": item.get("description", ""), "default": bool(item.get("default")),
                          "updated_at": now}},
                upsert=True,
            )
            if item.get("default"):
                first = await self.permissions.update_one({"_id": name, "defaulted": {"$ne": True}},
                                                          {"$set": {"defaulted": True}})
                if first.modified_count:
                    await self.roles.update_one({"_id": "user"}, {"$addToSet": {"permissions": name}})
                    granted.append(name)
        return granted

    async def known(self, module: str | None = None) -> list[dict[str, Any]]:
        query = {"module": module} if module else {}
        return [doc async for doc in self.permissions.find(query, sort=[("group", 1), ("_id", 1)])]

    async def check_known(self, permissions: list[str], field: str = "permissions") -> None:
        """422 naming every permission no service or module declares (`*` and a wildcard that
        covers a declared one are known)."""
        names = [d["_id"] async for d in self.permissions.find({}, {"_id": 1})]
        unknown = [p for p in permissions if not declared(p, names)]
        if unknown:
            raise ValidationFailed(f"Unknown permission(s): {', '.join(unknown)}", details=[
                {"field": field, "location": "body", "message": f"unknown permission {p}",
                 "type": "unknown_permission"} for p in unknown])
