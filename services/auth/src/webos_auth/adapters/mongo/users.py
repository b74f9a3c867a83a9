"""Users in `auth_users` (seed 004 shape): email and username unique,
roles, profile, created/updated/last_login, active, verified.

Uniqueness ignores case: e-mail addresses are stored lower-cased, user names
as typed under a unique index with a case-insensitive collation (ICU `en`,
strength 2), so `ADMIN` cannot sit beside `admin` and either spelling finds
the account. Lookups by name pass the same collation (and so use the index).

Installations from before kept a case-sensitive index and may hold names that
clash by case. `ensure_indexes` renames the later-created of such accounts
(`name-2`, …; they still sign in by e-mail), logs each rename, then swaps the
indexes — an index build never fails half-way on old rows."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from loguru import logger
from pymongo.collation import Collation
from pymongo.errors import DuplicateKeyError

from webos_common.http.errors import Conflict, NotFound

CASELESS = Collation(locale="en", strength=2)
USERNAME_INDEX = "username_caseless"


def _duplicate(exc: DuplicateKeyError) -> Conflict:
    pattern = (exc.details or {}).get("keyPattern") or {}
    field = "email" if "email" in pattern else "username"
    return Conflict(f"That {field} is already taken", details={"field": field})


class Users:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("email", unique=True)
        await self._caseless_usernames()
        await self.collection.create_index("roles")
        await self.collection.create_index([("sso.provider", 1), ("sso.subject", 1)], sparse=True)

    async def _caseless_usernames(self) -> None:
        if USERNAME_INDEX in await self.collection.index_information():
            return
        clashes = self.collection.aggregate(
            [{"$sort": {"created_at": 1, "_id": 1}},
             {"$group": {"_id": "$username", "ids": {"$push": "$_id"}, "n": {"$sum": 1}}},
             {"$match": {"n": {"$gt": 1}}}], collation=CASELESS)
        async for clash in await clashes:
            for later in clash["ids"][1:]:
                doc = await self.collection.find_one({"_id": later}, {"username": 1})
                renamed = await self._free_name(doc["username"])
                await self.collection.update_one({"_id": later}, {"$set": {"username": renamed}})
                logger.warning("auth: user {} renamed {!r} → {!r}: names are unique regardless of case now",
                               later, doc["username"], renamed)
        await self.collection.create_index("username", unique=True, collation=CASELESS, name=USERNAME_INDEX)
        if "username_1" in await self.collection.index_information():
            await self.collection.drop_index("username_1")

    async def _free_name(self, name: str) -> str:
        for n in range(2, 10_000):
            candidate = f"{name}-{n}"
            if await self.find_username(candidate) is None:
                return candidate
        return f"{name}-{uuid.uuid4().hex[:8]}"

    async def find_username(self, username: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one({"username": username}, collation=CASELESS)
        return doc

    async def create(self, *, email: str, username: str, password_hash: str | None, roles: list[str],
                     profile: dict[str, Any] | None = None, verified: bool = False,
                     sso: dict[str, str] | None = None) -> dict[str, Any]:
        now = datetime.now(UTC)
        doc = {"_id": uuid.uuid4().hex, "email": email.lower(), "username": username, "password_hash": password_hash,
               "roles": sorted(set(roles)), "profile": profile or {"display_name": username},
               "created_at": now, "updated_at": now, "last_login": None, "active": True, "verified": verified}
        if sso:
            doc["sso"] = sso
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError as exc:
            raise _duplicate(exc) from exc
        return doc

    async def get(self, user_id: str) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.collection.find_one({"_id": user_id})
        if doc is None:
            raise NotFound("No such user")
        return doc

    async def find_login(self, login: str) -> dict[str, Any] | None:
        login = login.strip()
        if "@" in login:
            return await self.find_email(login)
        return await self.find_username(login)

    async def find_email(self, email: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one({"email": email.strip().lower()})
        return doc

    async def find_sso(self, provider: str, subject: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one({"sso.provider": provider,
                                                                     "sso.subject": subject})
        return doc

    async def update(self, user_id: str, changes: dict[str, Any], *,
                     unchanged: dict[str, Any] | None = None) -> dict[str, Any]:
        """`unchanged`: fields whose values the caller decided on; when another write changed
        them meanwhile, nothing is written and the answer is 409."""
        changes = {**changes, "updated_at": datetime.now(UTC)}
        if "email" in changes:
            changes["email"] = changes["email"].lower()
        try:
            doc: dict[str, Any] | None = await self.collection.find_one_and_update(
                {**(unchanged or {}), "_id": user_id}, {"$set": changes}, return_document=True)
        except DuplicateKeyError as exc:
            raise _duplicate(exc) from exc
        if doc is None:
            await self.get(user_id)  # NotFound when the account is gone
            raise Conflict("This person was changed by someone else at the same moment; reload and try again",
                           details={"field": next(iter(unchanged or {}), None)})
        return doc

    async def touch_login(self, user_id: str) -> None:
        await self.collection.update_one({"_id": user_id}, {"$set": {"last_login": datetime.now(UTC)}})

    async def delete(self, user_id: str) -> dict[str, Any]:
        doc: dict[str, Any] | None = await self.collection.find_one_and_delete({"_id": user_id})
        if doc is None:
            raise NotFound("No such user")
        return doc

    async def search(self, *, q: str | None, role: str | None, active: bool | None,
                     skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        query: dict[str, Any] = {}
        if q:
            pattern = {"$regex": re.escape(q), "$options": "i"}
            query["$or"] = [{"email": pattern}, {"username": pattern}, {"profile.display_name": pattern}]
        if role:
            query["roles"] = role
        if active is not None:
            query["active"] = active
        total = await self.collection.count_documents(query)
        items = [doc async for doc in self.collection.find(query, sort=[("created_at", 1), ("_id", 1)],
                                                           skip=skip, limit=limit)]
        return items, total

    async def count_with_role(self, role: str) -> int:
        n: int = await self.collection.count_documents({"roles": role, "active": True})
        return n
