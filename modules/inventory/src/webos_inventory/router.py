"""`/api/inventory/...` — sign-in required (the module host mounts it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from webos_common.documents import BulkChanges, EventPublisher, IdempotencyKey, ListView, Page
from webos_common.http.paging import Limit, Skip
from webos_common.modules.service_registry import provide
from webos_inventory.models import ItemCreate, ItemRead, ItemUpdate, Receipt
from webos_inventory.service import ItemService

router = APIRouter()


def item_service(events: EventPublisher = provide(EventPublisher)) -> ItemService:
    return ItemService(events=events)


Service = Annotated[ItemService, Depends(item_service)]


@router.get("/items", response_model=Page[ItemRead])
async def list_items(service: Service, view: ListView, sku: str | None = None) -> Response:
    """By SKU; `?cursor=` the page after, `?meta=total` counts every row, `?fields=a,b` only those fields."""
    filters = {} if sku is None else {"sku": sku}
    return view.respond(await service.list(filters, sort=[("sku", 1)], **view.options))


@router.post("/items", response_model=ItemRead, status_code=status.HTTP_201_CREATED)
async def create_item(item_in: ItemCreate, service: Service, key: IdempotencyKey = None) -> ItemRead:
    return await service.create(item_in, idempotency_key=key)


@router.get("/items/trash", response_model=Page[ItemRead])
async def trash(service: Service, skip: Skip = 0, limit: Limit = 50) -> Page[ItemRead]:
    return await service.trash(skip=skip, limit=limit)


@router.get("/valuation")
async def valuation(service: Service) -> dict[str, float]:
    return await service.valuation()


@router.patch("/items/bulk")
async def bulk_update(body: BulkChanges[ItemUpdate], service: Service) -> dict[str, int]:
    """One change on many items (the shell's bulk edit): `{ids, changes, versions?}` → `{modified}`."""
    return {"modified": await service.bulk_update(body.ids, body.changes, versions=body.versions)}


@router.get("/items/{item_id}", response_model=ItemRead)
async def get_item(item_id: str, service: Service) -> ItemRead:
    return await service.get(item_id)


@router.patch("/items/{item_id}", response_model=ItemRead)
async def update_item(item_id: str, item_in: ItemUpdate, service: Service) -> ItemRead:
    return await service.update(item_id, item_in)


@router.post("/items/{item_id}/receive", response_model=ItemRead)
async def receive(item_id: str, receipt: Receipt, service: Service) -> ItemRead:
    return await service.receive(item_id, receipt.quantity)


@router.delete("/items/{item_id}", response_model=ItemRead)
async def delete_item(item_id: str, service: Service) -> ItemRead:
    return await service.delete(item_id)


@router.post("/items/{item_id}/restore", response_model=ItemRead)
async def restore_item(item_id: str, service: Service) -> ItemRead:
    return await service.restore(item_id)
