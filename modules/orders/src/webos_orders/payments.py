"""The payment-provider port and the simulated provider behind it (a real provider is another
class with the same two methods). Charges are idempotent by key: charging an order twice
charges it once (a refunded charge is not reused: charging again after it charges anew);
refunding twice refunds once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol


class PaymentDeclined(Exception):
    pass


class PaymentProvider(Protocol):
    async def charge(self, key: str, amount: float, method: str) -> str: ...
    async def refund(self, payment_id: str) -> None: ...


class SimulatedProvider:
    """Payments in MongoDB (`orders_payments`); the method `declined` is declined."""

    def __init__(self, db: Any) -> None:
        self.payments = db["orders_payments"]

    async def charge(self, key: str, amount: float, method: str) -> str:
        if method == "declined":
            raise PaymentDeclined("card declined")
        found = await self.payments.find_one({"key": key, "state": "charged"})
        if found is not None:
            return str(found["_id"])
        payment_id = uuid.uuid4().hex
        await self.payments.insert_one({"_id": payment_id, "key": key, "amount": amount, "state": "charged",
                                        "charged_at": datetime.now(UTC)})
        return payment_id

    async def refund(self, payment_id: str) -> None:
        await self.payments.update_one({"_id": payment_id, "state": "charged"},
                                       {"$set": {"state": "refunded", "refunded_at": datetime.now(UTC)}})
