"""Login abuse limits in MongoDB (`auth_login_failures`, TTL-indexed), so
every replica sees the same counts: failures per account (locks it for
`lockout_seconds` after `login_max_failures`) and per client address."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from webos_common.http.errors import RateLimited


class AccountLocked(RateLimited):
    code = "account_locked"


class LoginThrottle:
    def __init__(self, failures: Any, locks: Any, *, max_failures: int, lockout_seconds: int,
                 ip_max_failures: int, ip_window: int) -> None:
        self.failures, self.locks = failures, locks
        self.max_failures, self.lockout_seconds = max_failures, lockout_seconds
        self.ip_max_failures, self.ip_window = ip_max_failures, ip_window

    async def ensure_indexes(self) -> None:
        await self.failures.create_index([("key", 1), ("at", -1)])
        await self.failures.create_index("expires_at", expireAfterSeconds=0)
        await self.locks.create_index("until", expireAfterSeconds=0)

    async def check(self, account: str, address: str) -> None:
        """Raise before the password is even looked at if either limit is hit."""
        now = datetime.now(UTC)
        lock = await self.locks.find_one({"_id": f"acct:{account}", "until": {"$gt": now}})
        if lock is not None:
            wait = math.ceil((lock["until"] - now).total_seconds())
            raise AccountLocked(f"Account locked after too many failed sign-ins; try again in {wait} s",
                                retry_after=wait,
                                details={"retry_after": wait, "locked_until": lock["until"].isoformat()})
        since = now - timedelta(seconds=self.ip_window)
        key = f"ip:{address}"
        if await self.failures.count_documents({"key": key, "at": {"$gt": since}}) >= self.ip_max_failures:
            oldest = await self.failures.find_one({"key": key, "at": {"$gt": since}}, sort=[("at", 1)])
            wait = max(1, math.ceil((oldest["at"] + timedelta(seconds=self.ip_window) - now).total_seconds()))
            raise RateLimited(f"Too many failed sign-ins from this address; try again in {wait} s",
                              retry_after=wait, details={"retry_after": wait})

    async def failed(self, account: str, address: str) -> None:
        now = datetime.now(UTC)
        window = max(self.lockout_seconds, self.ip_window)
        expires = now + timedelta(seconds=window)
        await self.failures.insert_many([
            {"key": f"acct:{account}", "at": now, "expires_at": expires},
            {"key": f"ip:{address}", "at": now, "expires_at": expires},
        ])
        since = now - timedelta(seconds=self.lockout_seconds)
        if await self.failures.count_documents({"key": f"acct:{account}", "at": {"$gt": since}}) >= self.max_failures:
            until = now + timedelta(seconds=self.lockout_seconds)
            await self.locks.update_one({"_id": f"acct:{account}"}, {"$set": {"until": until}}, upsert=True)

    async def succeeded(self, account: str) -> None:
        await self.failures.delete_many({"key": f"acct:{account}"})

    async def unlock(self, account: str) -> None:
        await self.locks.delete_one({"_id": f"acct:{account}"})
        await self.failures.delete_many({"key": f"acct:{account}"})

    async def locked_until(self, account: str) -> datetime | None:
        lock = await self.locks.find_one({"_id": f"acct:{account}", "until": {"$gt": datetime.now(UTC)}})
        return lock["until"] if lock else None
