"""`/api/orders/...` — sign-in required (the module host mounts it)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from webos_common.documents import EventPublisher, IdempotencyKey, ListView, Page
from webos_common.documents.grants import ReadGrants
from webos_common.modules.service_registry import provide
from webos_orders.handlers import SERVICES
from webos_orders.models import OrderCreate, OrderRead
from webos_orders.service import OrderService

router = APIRouter()


def order_service(events: EventPublisher = provide(EventPublisher),
                  grants: ReadGrants = provide(ReadGrants)) -> OrderService:
    return OrderService(events=events, grants=grants, payments=SERVICES.get("payments"))


Service = Annotated[OrderService, Depends(order_service)]


class TransitionIn(BaseModel):
    action: Literal["submit", "approve", "reject", "cancel"]
    reason: str | None = Field(default=None, max_length=1000)


@router.get("/orders", response_model=Page[OrderRead])
async def list_orders(service: Service, view: ListView, state: str | None = None) -> Response:
    """Newest first; `?cursor=` the page after, `?meta=total` counts every row, `?fields=a,b` only those."""
    filters = {} if state is None else {"state": state}
    return view.respond(await service.list(filters, sort=[("created_at", -1)], **view.options))


@router.post("/orders", response_model=OrderRead, status_code=status.HTTP_201_CREATED)
async def create_order(order_in: OrderCreate, service: Service, key: IdempotencyKey = None) -> OrderRead:
    return await service.create(order_in, idempotency_key=key)


@router.get("/orders/{order_id}", response_model=OrderRead)
async def get_order(order_id: str, service: Service) -> OrderRead:
    return await service.get(order_id)


@router.post("/orders/{order_id}/transition", response_model=OrderRead)
async def transition(order_id: str, body: TransitionIn, service: Service) -> OrderRead:
    return await service.transition(order_id, body.action, reason=body.reason)


@router.post("/orders/{order_id}/pay", response_model=OrderRead)
async def pay(order_id: str, service: Service) -> OrderRead:
    return await service.pay(order_id)
