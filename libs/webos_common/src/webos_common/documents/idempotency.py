"""Idempotent creates: `Idempotency-Key` (IETF httpapi draft) for every module.

The first request with a key claims it (a row `pending` with a lease);
its create commits the record, its events and the stored response in one
transaction. A request with the same key and the same body then gets that
response and creates nothing; with another body a 422; while the first is
still in flight a 409. A claim whose process died before committing
lapses with its lease and the next retry takes it over (nothing of the
first attempt was committed, so nothing is made twice). Keys are kept 24 h
(a TTL index), per person and entity, in `<module>_idempotency`.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from webos_common.http.errors import Conflict, ValidationFailed

KEEP_SECONDS = 24 * 3600
LEASE_SECONDS = 30.0
HEADER = "Idempotency-Key"

_ensured: set[str] = set()


def fingerprint(body: str | bytes) -> str:
    return hashlib.sha256(body.encode() if isinstance(body, str) else body).hexdigest()


class Claim:
    def __init__(self, id: str, token: str) -> None:
        self.id, self.token = id, token


class IdempotencyStore:
    """Claimed keys and the responses they were answered with, in one MongoDB collection."""

    def __init__(self, collection: Any, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.collection = collection
        self.lease = timedelta(seconds=lease_seconds)

    async def ensure_indexes(self) -> None:
        if self.collection.full_name not in _ensured:
            await self.collection.create_index("created_at", expireAfterSeconds=KEEP_SECONDS)
            _ensured.add(self.collection.full_name)

    async def claim(self, id: str, body: str) -> Claim | dict[str, Any]:
        """Claim `id` for this request: a `Claim`, or the stored response of an earlier request."""
        await self.ensure_indexes()
        now, token, print_ = datetime.now(UTC), uuid.uuid4().hex, fingerprint(body)
        try:
            await self.collection.insert_one({"_id": id, "fingerprint": print_, "state": "pending", "token": token,
                                              "created_at": now, "lease_until": now + self.lease})
            return Claim(id, token)
        except DuplicateKeyError:
            pass
        row = await self.collection.find_one({"_id": id})
        if row is None:  # expired between the two calls: claim again
            return await self.claim(id, body)
        if row["fingerprint"] != print_:
            raise ValidationFailed(f"Invalid input: {HEADER} was used for a request with another body", details=[{
                "field": HEADER, "location": "header", "type": "idempotency_key_reused",
                "message": "this key was sent with another body; use a new key for a new request"}])
        if row["state"] == "done":
            response: dict[str, Any] = row["response"]
            return response
        taken = await self.collection.update_one(
            {"_id": id, "state": "pending", "lease_until": {"$lt": now}},
            {"$set": {"token": token, "lease_until": now + self.lease}})
        if taken.modified_count:
            return Claim(id, token)
        raise Conflict(f"A request with this {HEADER} is still in flight; retry when it has finished",
                       details={"field": HEADER, "retry_after": int(self.lease.total_seconds())})

    async def complete(self, claim: Claim, response: dict[str, Any], *, session: Any) -> None:
        """Store the response in the create's transaction; a claim lost meanwhile aborts it."""
        done = await self.collection.update_one(
            {"_id": claim.id, "token": claim.token, "state": "pending"},
            {"$set": {"state": "done", "response": response}, "$unset": {"lease_until": ""}}, session=session)
        if not done.matched_count:
            raise Conflict(f"The claim on this {HEADER} lapsed before the record was made; retry")

    async def release(self, claim: Claim) -> None:
        """Give a key back after a failed attempt: the client may retry with it."""
        await self.collection.delete_one({"_id": claim.id, "token": claim.token, "state": "pending"})
