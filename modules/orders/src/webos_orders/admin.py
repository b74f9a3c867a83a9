"""Admin pages and `/api/orders/admin/...` (permission `orders.admin`)."""

from __future__ import annotations

from fastapi import APIRouter

from webos_common.modules.manifest import AdminPage
from webos_orders.service import OrderService

pages = [AdminPage(label="Orders", path="/admin/m/orders", permission="orders.admin")]

router = APIRouter()


@router.get("/stats")
async def stats() -> dict[str, int]:
    """Orders per workflow state."""
    rows = await OrderService().repo.aggregate([{"$group": {"_id": "$state", "count": {"$sum": 1}}}])
    return {row["_id"]: row["count"] for row in rows}

# the payment saga's runs: the module host's generic `/api/orders/admin/sagas` (webos_register_sagas)
