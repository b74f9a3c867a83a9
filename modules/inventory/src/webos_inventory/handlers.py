"""Events of other modules: a paid order reserves its lines (seed 003 §8.1, `OrderPaid` ->
reserve). The reservation is the module's own act (as the system user), whoever paid."""

from __future__ import annotations

from typing import Any

from webos_common import context
from webos_common.identity import SYSTEM_USER
from webos_common.modules.hooks import at_once
from webos_inventory.service import ItemService

SERVICES: dict[str, Any] = {}  # the host's publisher, set on startup


@at_once(8)  # reservations hold when they meet (`ItemService.reserve`): orders are not queued behind each other
async def on_order_paid(event: Any) -> None:
    payload = event.payload
    with context.as_user(SYSTEM_USER):
        await ItemService(events=SERVICES.get("events")).reserve(str(payload["order_id"]), list(payload["lines"]))
