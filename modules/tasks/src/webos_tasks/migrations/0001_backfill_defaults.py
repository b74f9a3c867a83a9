"""Rows written before `tags` and `priority` existed get their defaults."""

from typing import Any


async def up(db: Any) -> None:
    items = db["tasks_items"]
    await items.update_many({"tags": {"$exists": False}}, {"$set": {"tags": []}})
    await items.update_many({"priority": {"$exists": False}}, {"$set": {"priority": "medium"}})
