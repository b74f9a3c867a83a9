"""Item use cases (CRUD, trash and restore from BaseService), receipts, and reservations
against orders: all of an order's lines or none, once per order, `stock:low` when what is
available falls under an item's reorder level."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from webos_common.documents import BaseService
from webos_common.http.errors import Conflict
from webos_inventory.models import Item, ItemCreate, ItemRead, ItemUpdate, Reservation


class ItemService(BaseService[Item, ItemCreate, ItemUpdate, ItemRead]):
    module, entity = "inventory", "item"
    document, read_schema = Item, ItemRead

    async def new_document(self, data_in: ItemCreate) -> Item:
        if await self.repo.count({"sku": data_in.sku}):
            raise Conflict(f"SKU {data_in.sku} exists", details={"field": "sku"})
        return await super().new_document(data_in)

    async def receive(self, id: str, quantity: int) -> ItemRead:
        """A receipt: `quantity` more on hand. Read and written in one transaction (run again when
        it loses a race), so two receipts at once both count."""
        self.can_write()

        async def work(session: Any) -> Item:
            item = await self.repo.get(id, session=session)
            doc: Item = await self.repo.update(id, {"on_hand": item.on_hand + quantity}, session=session)
            await self.emit("received", doc, session=session, quantity=quantity)
            return doc

        return self.read(await self.events.atomically(work, what="The item"))

    async def reserve(self, order_id: str, lines: list[dict[str, Any]]) -> Reservation:
        """Reserve every line (`item_id`, `quantity`) for `order_id`, or none; emits `stock:reserved`
        or `stock:reservation_failed`. Repeating it for the same order returns the first outcome.

        The items are read in the transaction that writes them (two orders reserving one item at
        once, on two replicas or with a handler's concurrency above one, both count: the loser of
        the write conflict runs again on what the winner wrote), and the reservation's id is made
        from the order's, so the same order delivered twice at once reserves once."""
        self.can_write()
        clean: list[dict[str, Any]] = [{"item_id": str(line["item_id"]), "quantity": int(line["quantity"])}
                                       for line in lines]

        async def work(session: Any) -> Reservation:
            existing: Reservation | None = await Reservation.find_one(Reservation.order_id == order_id,
                                                                      session=session)
            if existing is not None:
                return existing
            items: dict[str, Item] = {}
            reason = None
            for line in clean:
                oid = _oid(line["item_id"])
                item = None if oid is None else await Item.find_one({"_id": oid, "deleted_at": None},
                                                                    session=session)
                if item is None:
                    reason = f"no item {line['item_id']}"
                    break
                items[line["item_id"]] = item
                available = item.on_hand - item.reserved
                if available < line["quantity"]:
                    reason = f"not enough {item.sku}: {available} available, {line['quantity']} asked"
                    break
            reservation: Reservation = Reservation(id=reservation_id(order_id), order_id=order_id, lines=clean,
                                                   state="failed" if reason else "reserved", reason=reason)
            await reservation.insert(session=session)
            if reason:
                await self.events.emit("stock:reservation_failed", {"order_id": order_id, "reason": reason},
                                       session=session)
                return reservation
            for line in clean:
                item = items[line["item_id"]]
                item.reserved += line["quantity"]
                await self.repo.update(item.id, {"reserved": item.reserved}, session=session)
                available = item.on_hand - item.reserved
                if available < item.reorder_level:
                    await self.events.emit("stock:low", {"item_id": str(item.id), "sku": item.sku,
                                                         "available": available,
                                                         "reorder_level": item.reorder_level}, session=session)
            await self.events.emit("stock:reserved", {"order_id": order_id, "lines": clean}, session=session)
            return reservation

        try:
            return await self.events.atomically(work, what="The reservation")
        except DuplicateKeyError:  # the same order, reserved meanwhile by another delivery: its outcome
            found: Reservation | None = await Reservation.find_one(Reservation.order_id == order_id)
            if found is None:
                raise
            return found

    async def valuation(self) -> dict[str, float]:
        """Stock value (on hand × price) over the catalogue."""
        self.can_read()
        rows = await self.repo.aggregate([{"$group": {"_id": None, "value": {"$sum": {"$multiply": [
            "$on_hand", "$price"]}}, "units": {"$sum": "$on_hand"}}}])
        row = rows[0] if rows else {"value": 0.0, "units": 0}
        return {"value": float(row["value"]), "units": float(row["units"])}

    async def purge_old_trash(self, days: int = 30) -> int:
        """Delete for good what has been in the trash for more than `days` (admin/system only)."""
        cutoff = datetime.now(UTC) - timedelta(days=days)
        old = await self.repo.find({"deleted_at": {"$lt": cutoff}}, deleted=True, limit=100)
        for item in old:
            await self.purge(item.id)
        return len(old)


def reservation_id(order_id: str) -> PydanticObjectId:
    """The reservation's id, made from its order's: a second insert for one order is refused."""
    return PydanticObjectId(hashlib.sha256(f"reservation:{order_id}".encode()).digest()[:12])


def _oid(value: Any) -> PydanticObjectId | None:
    try:
        return PydanticObjectId(str(value))
    except Exception:  # noqa: BLE001 - a malformed id names no item
        return None
