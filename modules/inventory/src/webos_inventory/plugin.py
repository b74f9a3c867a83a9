"""Hook implementations: what the conventions cannot say."""

from __future__ import annotations

from pydantic import BaseModel

from webos_common.documents import EventPublisher
from webos_common.modules.hooks import CollectionSpec, ModuleContext
from webos_common.modules.manifest import NavEntry, PaletteCommand, PermissionSpec, Widget
from webos_inventory import models


def webos_register_ui() -> list[NavEntry | Widget]:
    return [NavEntry(label="Inventory", path="/m/inventory", icon="extension", permission="inventory.read")]


def webos_register_commands() -> list[PaletteCommand]:
    return [PaletteCommand(id="inventory.new", label="New Inventory item", action="form", collection="items",
                           permission="inventory.write")]


def webos_register_settings() -> type[BaseModel]:
    return models.InventorySettings


def webos_register_collections() -> list[CollectionSpec]:
    return [CollectionSpec(name="items", label="Inventory", path="/items", read=models.ItemRead,
                           create=models.ItemCreate, update=models.ItemUpdate)]


def webos_register_event_handlers() -> dict[str, object]:
    from webos_inventory.handlers import on_order_paid

    return {"order:paid": on_order_paid}


def webos_startup(ctx: ModuleContext) -> None:
    from webos_inventory import handlers

    handlers.SERVICES["events"] = ctx.services.get(EventPublisher)


def webos_declare_permissions() -> list[PermissionSpec]:
    # granted by an admin: the catalogue and its stock are the warehouse's
    return [
        PermissionSpec(name="inventory.read", description="See the catalogue and stock", group="Inventory"),
        PermissionSpec(name="inventory.write", description="Add items and receive stock", group="Inventory"),
        PermissionSpec(name="inventory.admin", description="Inventory administration", group="Inventory"),
    ]


def webos_declare_emitted_events() -> list[str]:
    # a receipt (`ItemService.receive`): an action of its own entity beyond the standard ones, so
    # its credential must be told (NATS refused it, and its outbox rows, otherwise)
    return ["item:received"]
