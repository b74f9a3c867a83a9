"""Admin pages and `/api/orders/admin/...` (permission `orders.admin`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from webos_common.modules.manifest import AdminPage
from webos_orders.handlers import SERVICES
from webos_orders.service import OrderService

pages = [AdminPage(label="Orders", path="/admin/m/orders", permission="orders.admin")]

router = APIRouter()


@router.get("/stats")
async def stats() -> dict[str, int]:
    """Orders per workflow state."""
    rows = await OrderService().repo.aggregate([{"$group": {"_id": "$state", "count": {"$sum": 1}}}])
    return {row["_id"]: row["count"] for row in rows}


@router.get("/sagas")
async def sagas(state: str | None = None, limit: int = Query(default=50, ge=1, le=500)) -> list[dict[str, Any]]:
    """The payment saga runs, newest first: steps done, where one failed and why, compensation errors."""
    store = SERVICES["sagas"]
    cursor = store.runs.find({} if state is None else {"state": state}, sort=[("started_at", -1)], limit=limit)
    return [{**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]} async for doc in cursor]
