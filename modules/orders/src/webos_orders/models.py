"""Sales orders: lines priced from inventory's catalogue, a workflow state with its history,
the payment that charged it, and the events it publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from webos_common.bus import register_event
from webos_common.documents import CoreDocument, CreateModel, ListQuery, ReadModel


class Order(CoreDocument):
    """Visible to everyone with `orders.read` (approvers see others' orders); `owner_id` is who placed it."""

    owner_id: str = ""
    lines: list[dict[str, Any]] = Field(default_factory=list)  # item_id, sku, quantity, unit_price
    total: float = 0.0
    payment_method: str = "card"
    state: str = "draft"
    history: list[dict[str, Any]] = Field(default_factory=list)
    payment_id: str | None = None
    failure: str | None = None

    class Settings:
        name = "orders"  # -> orders_orders
        indexes = [[("owner_id", 1)]]
        queries = [ListQuery(), ListQuery(filter=["state"])]  # newest first, of every state or of one


class LineIn(BaseModel):
    item_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=100_000)


class OrderCreate(CreateModel):
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    # the simulated payment provider declines `declined` (for tests and demos)
    payment_method: Literal["card", "declined"] = "card"


class OrderRead(ReadModel):
    owner_id: str
    lines: list[dict[str, Any]]
    total: float
    payment_method: str
    state: str
    history: list[dict[str, Any]]
    payment_id: str | None = None
    failure: str | None = None
    actions: list[str] = Field(default_factory=list)  # what the reader may do now


class OrderEvent(BaseModel):
    """A workflow step; `id` and the `version` it made put it in the order's audit trail."""

    id: str
    version: int | None = None
    owner_id: str
    state: str
    total: float
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None


class OrderPaid(BaseModel):
    order_id: str
    id: str | None = None  # the order again, with the `version` paying made: its audit trail lists it
    version: int | None = None
    owner_id: str | None = None
    state: str | None = None
    amount: float
    lines: list[dict[str, Any]]


class OrdersSettings(BaseModel):
    """The module's settings (announced as JSON Schema; the settings service stores them)."""

    purge_trash_after_days: int = Field(default=30, ge=1, le=3650)


for _action in ("submitted", "approved", "rejected", "cancelled", "fulfilled", "refunded"):
    register_event(f"order:{_action}", OrderEvent)
register_event("order:paid", OrderPaid)
