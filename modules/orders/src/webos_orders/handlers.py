"""Inventory's answers to `order:paid`: reserved → the order is fulfilled; the reservation
failed → the saga's compensation refunds the charge. Both as the module itself."""

from __future__ import annotations

from typing import Any

from webos_common import context
from webos_common.identity import SYSTEM_USER
from webos_common.modules.hooks import at_once

SERVICES: dict[str, Any] = {}  # the host's publisher, the payment provider: set on startup


def _service() -> Any:
    from webos_orders.service import OrderService

    return OrderService(events=SERVICES.get("events"), payments=SERVICES.get("payments"))


@at_once(8)  # a transition holds when it meets another (`OrderService.transition`): fulfilments side by side
async def on_stock_reserved(event: Any) -> None:
    with context.as_user(SYSTEM_USER):
        await _service().on_reserved(str(event.payload["order_id"]))


async def on_reservation_failed(event: Any) -> None:
    with context.as_user(SYSTEM_USER):
        await _service().on_reservation_failed(str(event.payload["order_id"]), str(event.payload["reason"]))
