"""The first migration: rows written before `reserved` existed reserve nothing."""

from typing import Any


async def up(db: Any) -> None:
    await db["inventory_items"].update_many({"reserved": {"$exists": False}}, {"$set": {"reserved": 0}})
