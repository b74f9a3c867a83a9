"""Order use cases. The workflow (draft → submitted → approved / rejected → paid → fulfilled,
or cancelled / refunded) is declared once in `ORDER`; each transition is a method here that
checks it, records who and when, and emits `order:<transition>`. Paying is a saga: charge
(compensated by a refund) then record the payment and announce `order:paid`; inventory
reserves the lines and answers `stock:reserved` (→ fulfilled) or `stock:reservation_failed`
(→ the charge is refunded).

The payment saga (`PAYMENT`) is declared to the module host (`webos_register_sagas`), which
keeps its runs in `orders_sagas` and lets an admin see them, retry a compensated one (the
charge uses the order's payment method as it is then: a declined card fixed, the order is
paid) and compensate one whose refund kept failing. Its steps read what they need from the
run's data, so they run the same from a request or from the admin's retry."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from webos_common import context
from webos_common.documents import BaseService, UpdateModel
from webos_common.documents.grants import ReadGrants
from webos_common.http.errors import Conflict, NotFound, ValidationFailed
from webos_common.processes.saga import Saga, SagaContext, SagaFailed
from webos_common.processes.workflow import Transition, Workflow, not_by_whoever
from webos_orders.handlers import SERVICES
from webos_orders.models import Order, OrderCreate, OrderRead
from webos_orders.payments import PaymentProvider

ORDER = Workflow("order", initial="draft", transitions=[
    Transition("submit", {"draft"}, "submitted", "orders.write"),
    Transition("approve", {"submitted"}, "approved", "orders.approve", guard=not_by_whoever("submit")),
    Transition("reject", {"submitted"}, "rejected", "orders.approve", guard=not_by_whoever("submit")),
    Transition("cancel", {"draft", "submitted", "approved"}, "cancelled", "orders.write"),
    Transition("pay", {"approved"}, "paid", "orders.write"),
    Transition("fulfil", {"paid"}, "fulfilled", "orders.fulfil"),   # the module itself, on stock:reserved
    Transition("refund", {"paid"}, "refunded", "orders.fulfil"),    # the module itself, on a failed reservation
])
PAST = {"submit": "submitted", "approve": "approved", "reject": "rejected", "cancel": "cancelled",
        "fulfil": "fulfilled", "refund": "refunded"}


class OrderService(BaseService[Order, OrderCreate, UpdateModel, OrderRead]):
    module, entity = "orders", "order"
    document, read_schema = Order, OrderRead

    def __init__(self, *, events: Any = None, grants: ReadGrants | None = None,
                 payments: PaymentProvider | None = None) -> None:
        super().__init__(events=events)
        self.grants, self.payments = grants, payments

    def read(self, doc: Order) -> OrderRead:
        out = super().read(doc)
        out.actions = [a for a in ORDER.available(doc.state, history=doc.history) if a not in ("fulfil", "refund")]
        return out

    async def new_document(self, data_in: OrderCreate) -> Order:
        """Price each line from inventory's catalogue (read grant `inventory.items`)."""
        assert self.grants is not None
        items = self.grants.collection("inventory.items")
        lines = []
        for n, line in enumerate(data_in.lines):
            try:
                oid = PydanticObjectId(line.item_id)
            except Exception:  # noqa: BLE001 - any malformed id is bad input
                oid = None
            item = None if oid is None else await items.find_one({"_id": oid})
            if item is None:
                raise ValidationFailed(f"Invalid input: lines.{n}.item_id (no such item)", details=[
                    {"field": f"lines.{n}.item_id", "message": "no such inventory item", "type": "reference"}])
            lines.append({"item_id": line.item_id, "sku": item["sku"], "quantity": line.quantity,
                          "unit_price": float(item["price"])})
        user = context.current_user.get()
        doc: Order = Order(owner_id=user.id if user else "", lines=lines, payment_method=data_in.payment_method,
                           total=round(sum(x["quantity"] * x["unit_price"] for x in lines), 2))
        return doc

    async def transition(self, id: str, action: str, *, reason: str | None = None,
                         extra: dict[str, Any] | None = None) -> OrderRead:
        """Apply workflow transition `action`, record it, emit `order:<past tense>`."""
        self.can_read()

        async def work(session: Any) -> Order:
            # read in the transaction that writes: two people acting at once (approve and cancel, or
            # two approvers) conflict, and the one run again sees the other's state: a 409 if its
            # action is no longer allowed, never two transitions from one state
            doc = await self.repo.get(id, session=session)
            state, entry = ORDER.apply(doc.state, action, history=doc.history)
            if reason:
                entry["reason"] = reason
            changes = {"state": state, "history": [*doc.history, entry], **(extra or {})}
            doc = await self.repo.update(id, changes, session=session)
            await self.events.emit(f"order:{PAST[action]}", {
                "id": str(doc.id), "version": doc.version, "owner_id": doc.owner_id, "state": state, "total": doc.total,
                "by": entry["by"], "at": entry["at"].isoformat(), "reason": reason}, session=session)
            return doc

        return self.read(await self.events.atomically(work, what="The order"))

    async def pay(self, id: str) -> OrderRead:
        """The payment saga (`PAYMENT`): charge, then record the payment and announce `order:paid` in
        one transaction; when recording fails the charge is refunded. A declined card is a 409."""
        self.can_read()
        doc = await self.repo.get(id)
        ORDER.apply(doc.state, "pay", history=doc.history)  # refuse early, before any charge
        try:
            await PAYMENT.run({"order_id": id, "amount": doc.total, "method": doc.payment_method},
                              run_id=f"pay-{id}-{len(doc.history)}")
        except SagaFailed as exc:
            await self.repo.update(id, {"failure": f"payment failed: {exc.error}"})
            raise Conflict(f"Payment failed: {exc.error}", details={"field": "payment_method",
                                                                    "saga": exc.run.id}) from exc
        return self.read(await self.repo.get(id))

    async def on_reserved(self, order_id: str) -> None:
        doc = await self.repo.get(order_id)
        if doc.state == "paid":
            await self.transition(order_id, "fulfil")

    async def on_reservation_failed(self, order_id: str, reason: str) -> None:
        """The compensation: refund the charge, then record the refund (and why)."""
        doc = await self.repo.get(order_id)
        if doc.state != "paid":
            return  # already compensated (a redelivered event)
        assert self.payments is not None
        if doc.payment_id:
            await self.payments.refund(doc.payment_id)
        await self.transition(order_id, "refund", reason=reason, extra={"failure": f"reservation failed: {reason}"})


# -- the payment saga: its steps read the run's data, so an admin's retry runs them as a request does --
def _payments() -> PaymentProvider:
    payments = SERVICES.get("payments")
    assert payments is not None, "the orders module has not started"
    return payments  # type: ignore[no-any-return]


def _orders() -> OrderService:
    return OrderService(events=SERVICES.get("events"), payments=SERVICES.get("payments"))


async def _charge(ctx: SagaContext) -> str:
    """With the order's payment method as it is now (the run's when the order is gone)."""
    order_id = ctx.data["order_id"]
    try:
        method = (await _orders().repo.get(order_id)).payment_method
    except NotFound:
        method = ctx.data["method"]
    return await _payments().charge(f"order:{order_id}", ctx.data["amount"], method)


async def _refund(ctx: SagaContext) -> None:
    await _payments().refund(ctx.results["charge"])


async def _record(ctx: SagaContext) -> None:
    service, id = _orders(), ctx.data["order_id"]
    fresh = await service.repo.get(id)
    state, entry = ORDER.apply(fresh.state, "pay", history=fresh.history)
    async with service.events.transaction() as session:
        paid = await service.repo.update(id, {"state": state, "history": [*fresh.history, entry],
                                              "payment_id": ctx.results["charge"], "failure": None},
                                         session=session)
        await service.events.emit("order:paid", {
            "order_id": id, "amount": fresh.total, "lines": fresh.lines,
            "id": id, "version": paid.version, "owner_id": paid.owner_id, "state": state}, session=session)


PAYMENT = Saga("order_payment", retryable=True)  # its store: the module host's (`orders_sagas`)
PAYMENT.step("charge", _charge, compensate=_refund).step("record", _record)
