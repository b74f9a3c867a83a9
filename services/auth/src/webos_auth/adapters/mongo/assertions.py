"""Every client assertion's `jti` seen (`auth_assertion_jtis`, unique `_id`, TTL on the
expiry), so a captured assertion cannot be replayed at this or any other auth replica."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from webos_auth.domain.assertions import LEEWAY, Assertion, invalid_client


class AssertionLedger:
    """Every assertion `jti` seen, until the assertion could no longer be used anyway."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def spend(self, assertion: Assertion) -> None:
        until = datetime.fromtimestamp(assertion.exp + LEEWAY, UTC)
        try:
            await self.collection.insert_one({"_id": assertion.jti, "principal": assertion.principal.name,
                                              "expires_at": until})
        except DuplicateKeyError as exc:
            raise invalid_client("The client assertion was already used (jti replayed)") from exc
