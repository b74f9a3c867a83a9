"""Settings in MongoDB (prefix `settings_`).

* `settings_values` — one document per system section or module:
  `{_id: "system/smtp", layer, name, values, version, updated_at, updated_by}`.
* `settings_users` — seed 004's shape, one document per user:
  `{_id: user_id, user_id, plugin_settings: {<module>: {...}}, versions: {<module>: n}}`.
* `settings_history` — every version of every scope, values as stored
  (secrets stay ciphertext) plus the masked change list.
* `settings_schemas` — module schemas registered by API or from manifests.

A write and its history entry commit in one transaction; the version
number is the optimistic lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from webos_common.documents.transactions import run_transaction
from webos_common.http.errors import Conflict
from webos_common.security.keyring import Keyring
from webos_settings.domain.scope import Scope

Session = AsyncClientSession | None
T = TypeVar("T")


class MongoSettingsStore:
    def __init__(self, client: AsyncMongoClient[Any], db_name: str) -> None:
        self.client = client
        db = client[db_name]
        self.values, self.users = db["settings_values"], db["settings_users"]
        self.history_col, self.schemas = db["settings_history"], db["settings_schemas"]

    async def ensure_indexes(self) -> None:
        await self.history_col.create_index([("scope", ASCENDING), ("version", ASCENDING)], unique=True)
        await self.values.create_index([("layer", ASCENDING), ("name", ASCENDING)])

    async def atomically(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """`work(session)` in one transaction, run again when it loses a race with a concurrent writer
        (the library's one retry policy); a 409, never a 500, when the retries run out."""
        return await run_transaction(self.client, work, what="The settings")

    # -- values -----------------------------------------------------------------
    async def load(self, scope: Scope, session: Session = None) -> tuple[dict[str, Any], int]:
        if scope.layer == "user":
            doc = await self.users.find_one({"_id": scope.user_id}, session=session)
            doc = doc or {}
            return (doc.get("plugin_settings", {}).get(scope.name, {}),
                    int(doc.get("versions", {}).get(scope.name, 0)))
        doc = await self.values.find_one({"_id": scope.id}, session=session)
        return (doc["values"], int(doc["version"])) if doc else ({}, 0)

    async def save(self, scope: Scope, values: dict[str, Any], *, expected: int, by: str,
                   session: Session = None) -> int:
        now, version = datetime.now(UTC), expected + 1
        if scope.layer == "user":
            field = f"versions.{scope.name}"
            query = {"_id": scope.user_id, field: expected or None}
            update = {"$set": {"user_id": scope.user_id, f"plugin_settings.{scope.name}": values,
                               field: version, "updated_at": now}}
            collection = self.users
        else:
            query = {"_id": scope.id, "version": expected or None}
            update = {"$set": {"layer": scope.layer, "name": scope.name, "values": values, "version": version,
                               "updated_at": now, "updated_by": by}}
            collection = self.values
        try:
            result = await collection.update_one(query, update, upsert=expected == 0, session=session)
        except DuplicateKeyError as exc:
            raise Conflict(f"{scope.label()} changed meanwhile; read and retry") from exc
        if result.matched_count == 0 and result.upserted_id is None:
            raise Conflict(f"{scope.label()} changed meanwhile (expected version {expected}); read and retry")
        return version

    async def scopes(self, *, name: str | None = None, users: bool = True
                     ) -> AsyncIterator[tuple[Scope, dict[str, Any], int]]:
        query = {"name": name} if name else {}
        async for doc in self.values.find(query).sort("_id", ASCENDING):
            yield Scope(doc["layer"], doc["name"]), doc["values"], int(doc["version"])
        if not users:
            return
        async for doc in self.users.find({}).sort("_id", ASCENDING):
            for module, values in sorted(doc.get("plugin_settings", {}).items()):
                if name is None or module == name:
                    yield Scope("user", module, doc["_id"]), values, int(doc["versions"].get(module, 0))

    # -- history ----------------------------------------------------------------
    async def add_history(self, scope: Scope, *, version: int, values: dict[str, Any],
                          changes: list[dict[str, Any]], by: str, action: str, session: Session = None) -> None:
        await self.history_col.insert_one({
            "scope": scope.id, "layer": scope.layer, "name": scope.name, "user_id": scope.user_id,
            "version": version, "values": values, "changes": changes, "by": by, "action": action,
            "at": datetime.now(UTC)}, session=session)

    async def history(self, scope: Scope, *, skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        query = {"scope": scope.id}
        total = await self.history_col.count_documents(query)
        cursor = self.history_col.find(query, {"_id": 0}).sort("version", DESCENDING).skip(skip).limit(limit)
        return [doc async for doc in cursor], total

    async def history_entry(self, scope: Scope, version: int) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.history_col.find_one({"scope": scope.id, "version": version})
        return doc

    # -- schemas ----------------------------------------------------------------
    async def get_schema(self, module: str, session: Session = None) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.schemas.find_one({"_id": module}, session=session)
        return doc

    async def put_schema(self, module: str, schema: dict[str, Any], user_schema: dict[str, Any] | None,
                         *, source: str, session: Session = None) -> bool:
        """Store a module's schemas; False when they were already exactly these."""
        current = await self.get_schema(module, session)
        if current and current.get("schema") == schema and current.get("user_schema") == user_schema:
            return False
        await self.schemas.replace_one({"_id": module}, {
            "_id": module, "schema": schema, "user_schema": user_schema, "source": source,
            "updated_at": datetime.now(UTC)}, upsert=True, session=session)
        return True

    async def list_schemas(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.schemas.find({}).sort("_id", ASCENDING)]

    # -- key rotation -----------------------------------------------------------
    async def reencrypt(self, keyring: Keyring) -> int:
        """Re-encrypt every secret (values, user settings, history) under the current key."""
        total = 0
        for collection, fields in ((self.values, ("values",)), (self.users, ("plugin_settings",)),
                                   (self.history_col, ("values",))):
            async for doc in collection.find({}):
                update, count = {}, 0
                for field in fields:
                    update[field], n = keyring.reencrypt_all(doc.get(field))
                    count += n
                if count:
                    await collection.update_one({"_id": doc["_id"], **{f: doc.get(f) for f in fields}},
                                                {"$set": update})
                    total += count
        return total
