"""Hook implementations: what the conventions cannot say."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from webos_common.documents import EventPublisher
from webos_common.modules.hooks import CollectionSpec, ModuleContext
from webos_common.modules.manifest import NavEntry, PaletteCommand, PermissionSpec
from webos_common.processes.saga import Saga
from webos_orders import models


def webos_register_ui() -> list[NavEntry]:
    return [NavEntry(label="Orders", path="/m/orders", icon="receipt_long", permission="orders.read")]


def webos_register_commands() -> list[PaletteCommand]:
    return [PaletteCommand(id="orders.new", label="New order", action="form", collection="orders",
                           permission="orders.write")]


def webos_register_settings() -> type[BaseModel]:
    return models.OrdersSettings


def webos_register_collections() -> list[CollectionSpec]:
    return [CollectionSpec(name="orders", label="Orders", path="/orders", read=models.OrderRead,
                           create=models.OrderCreate, update=None)]


def webos_register_read_grants() -> list[str]:
    return ["inventory.items"]  # lines are priced from the catalogue


def webos_register_event_handlers() -> dict[str, Any]:
    from webos_orders.handlers import on_reservation_failed, on_stock_reserved

    return {"stock:reserved": on_stock_reserved, "stock:reservation_failed": on_reservation_failed}


def webos_startup(ctx: ModuleContext) -> None:
    from webos_orders.handlers import SERVICES
    from webos_orders.payments import SimulatedProvider

    SERVICES.update(events=ctx.services.get(EventPublisher), payments=SimulatedProvider(ctx.resources.db))


def webos_register_sagas() -> list[Saga]:
    from webos_orders.service import PAYMENT

    return [PAYMENT]  # the host keeps its runs (orders_sagas) and shows them to admins


def webos_declare_permissions() -> list[PermissionSpec]:
    # granted by an admin: orders are company business, not every person's
    return [
        PermissionSpec(name="orders.read", description="See sales orders", group="Orders"),
        PermissionSpec(name="orders.write", description="Place, submit, cancel and pay orders", group="Orders"),
        PermissionSpec(name="orders.approve", description="Approve or reject orders others submitted",
                       group="Orders"),
        PermissionSpec(name="orders.admin", description="See order statistics and payment saga runs",
                       group="Orders"),
    ]
