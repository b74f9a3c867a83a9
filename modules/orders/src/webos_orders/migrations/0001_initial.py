"""The first migration: orders written before `history` existed start with an empty one."""

from typing import Any


async def up(db: Any) -> None:
    await db["orders_orders"].update_many({"history": {"$exists": False}}, {"$set": {"history": []}})
