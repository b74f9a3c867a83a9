"""Admin pages and `/api/inventory/admin/...` (permission `inventory.admin`)."""

from __future__ import annotations

from fastapi import APIRouter

from webos_common.modules.manifest import AdminPage
from webos_inventory.service import ItemService

pages = [AdminPage(label="Inventory", path="/admin/m/inventory", permission="inventory.admin")]

router = APIRouter()


@router.get("/stats")
async def stats() -> dict[str, int]:
    """Counts over every user's items (an admin's queries are not scoped to an owner)."""
    service = ItemService()
    return {"items": await service.repo.count(), "in_trash": await service.repo.count(deleted=True)}
