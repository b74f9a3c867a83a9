"""Items (a shared catalogue with stock on hand and reserved), reservations against orders,
and the events the module publishes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from webos_common.bus import register_event
from webos_common.documents import CoreDocument, CreateModel, ListQuery, ReadModel, UpdateModel

Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{1,40}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Item(CoreDocument):
    sku: str
    name: str
    unit: str = "pcs"
    price: float = 0.0
    reorder_level: int = 0
    on_hand: int = 0
    reserved: int = 0

    class Settings:
        name = "items"  # -> inventory_items
        queries = [ListQuery(sort=["sku"])]  # the catalogue by SKU (and one SKU: its prefix)


class Reservation(CoreDocument):
    """One per order (its id is made from the order's: `service.reservation_id`): reserving twice
    for an order changes nothing."""

    order_id: str
    lines: list[dict[str, int | str]] = Field(default_factory=list)
    state: str = "reserved"  # reserved | released | failed
    reason: str | None = None

    class Settings:
        name = "reservations"  # -> inventory_reservations
        indexes = [[("order_id", 1)]]
        queries: list[ListQuery] = []  # never listed


class ItemCreate(CreateModel):
    sku: Sku
    name: Name
    unit: str = Field(default="pcs", min_length=1, max_length=20)
    price: float = Field(default=0.0, ge=0)
    reorder_level: int = Field(default=0, ge=0)
    on_hand: int = Field(default=0, ge=0)


class ItemUpdate(UpdateModel):
    name: Name | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    price: float | None = Field(default=None, ge=0)
    reorder_level: int | None = Field(default=None, ge=0)


class ItemRead(ReadModel):
    sku: str
    name: str
    unit: str
    price: float
    reorder_level: int
    on_hand: int
    reserved: int


class Receipt(CreateModel):
    quantity: int = Field(gt=0, le=1_000_000)


class InventorySettings(BaseModel):
    """The module's settings (announced as JSON Schema; the settings service stores them)."""

    purge_trash_after_days: int = Field(default=30, ge=1, le=3650)


class StockReserved(BaseModel):
    order_id: str
    lines: list[dict[str, int | str]]


class ReservationFailed(BaseModel):
    order_id: str
    reason: str


class StockLow(BaseModel):
    item_id: str
    sku: str
    available: int
    reorder_level: int


register_event("stock:reserved", StockReserved)
register_event("stock:reservation_failed", ReservationFailed)
register_event("stock:low", StockLow)
