"""The audit trail of changes to roles and permissions (`auth_audit`): who, when, what.
Written by the use cases that change a role, a person's roles or the `user` role's
defaults; read at `GET /audit` and on the shell's audit page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from webos_common.identity import User

SYSTEM = {"id": "system", "username": "system"}


class Audit:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("at", -1)])
        await self.collection.create_index([("target", 1), ("at", -1)])

    async def record(self, actor: User | None, action: str, target: str, **details: Any) -> None:
        who = {"id": actor.id, "username": actor.username} if actor else SYSTEM
        await self.collection.insert_one({"_id": uuid.uuid4().hex, "at": datetime.now(UTC), "actor": who,
                                          "action": action, "target": target, "details": details})

    async def page(self, *, target: str | None, skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        query = {"target": target} if target else {}
        total = await self.collection.count_documents(query)
        items = [{"id": d.pop("_id"), **d} async for d in
                 self.collection.find(query, sort=[("at", -1), ("_id", 1)], skip=skip, limit=limit)]
        return items, total
