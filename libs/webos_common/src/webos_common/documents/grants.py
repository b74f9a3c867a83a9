"""Read grants: a module reads another module's collection directly, read-only,
because its manifest says so (DESIGN.md, Data).

    # plugin.py of a reporting module
    def webos_register_read_grants():
        return ["tasks.items"]                    # the collection tasks_items

    # anywhere in that module (routes: provide(ReadGrants); jobs: ctx.services.get(ReadGrants))
    items = grants.collection("tasks.items")
    open_count = await items.count_documents({"status": "todo"})

What a grant gives is a `ReadOnlyCollection`: find / find_one /
count_documents / distinct / aggregate, nothing that writes. Owned documents
are scoped to the current user as everywhere else (admins and the system
user see all), soft-deleted ones are left out unless asked for. A collection
not declared is refused (403), so the manifest lists every cross-module read
an operator has to know about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from webos_common import context
from webos_common.documents.base import OWNER_FIELD
from webos_common.http.errors import Forbidden, ValidationFailed

GRANT = re.compile(r"^[a-z][a-z0-9_]{0,40}\.[a-z][a-z0-9_]{0,60}$")


def parse_grants(grants: Iterable[str], *, module: str) -> list[str]:
    """Checked, sorted grants (`<module>.<collection>`), never the module's own collections."""
    found: set[str] = set()
    for grant in grants:
        if not isinstance(grant, str) or not GRANT.match(grant):
            raise ValidationFailed(f"read grant {grant!r} must be '<module>.<collection>'",
                                   details=[{"field": "reads", "message": "invalid grant"}])
        if grant.split(".", 1)[0] == module:
            continue  # its own data needs no grant
        found.add(grant)
    return sorted(found)


def _scope(extra: Mapping[str, Any] | None, *, include_deleted: bool) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [dict(extra or {})] if extra else []
    if not include_deleted:
        clauses.append({"deleted_at": None})
    user = context.current_user.get()
    if user is None:
        raise Forbidden("Reading another module's data needs a signed-in user or the system")
    if not user.is_admin:
        clauses.append({"$or": [{OWNER_FIELD: user.id}, {OWNER_FIELD: {"$exists": False}}]})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ReadOnlyCollection:
    def __init__(self, collection: Any, grant: str) -> None:
        self._collection, self.grant = collection, grant

    @property
    def name(self) -> str:
        return str(self._collection.name)

    async def find(self, filter: Mapping[str, Any] | None = None, *, projection: Any = None,
                   sort: Sequence[tuple[str, int]] | None = None, skip: int = 0, limit: int = 100,
                   include_deleted: bool = False) -> list[dict[str, Any]]:
        cursor = self._collection.find(_scope(filter, include_deleted=include_deleted), projection,
                                       sort=list(sort) if sort else None, skip=skip, limit=min(limit, 10_000))
        return [doc async for doc in cursor]

    async def find_one(self, filter: Mapping[str, Any] | None = None, *, projection: Any = None,
                       include_deleted: bool = False) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self._collection.find_one(
            _scope(filter, include_deleted=include_deleted), projection)
        return found

    async def count_documents(self, filter: Mapping[str, Any] | None = None, *,
                              include_deleted: bool = False) -> int:
        return int(await self._collection.count_documents(_scope(filter, include_deleted=include_deleted)))

    async def distinct(self, key: str, filter: Mapping[str, Any] | None = None, *,
                       include_deleted: bool = False) -> list[Any]:
        return list(await self._collection.distinct(key, _scope(filter, include_deleted=include_deleted)))

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], *,
                        include_deleted: bool = False) -> list[dict[str, Any]]:
        """The pipeline runs after the scoping `$match`; stages that write are refused."""
        for stage in pipeline:
            if set(stage) & {"$out", "$merge"}:
                raise Forbidden("A read grant does not allow $out or $merge")
        scoped = [{"$match": _scope(None, include_deleted=include_deleted)}, *pipeline]
        cursor = await self._collection.aggregate(scoped)
        return [doc async for doc in cursor]


class ReadGrants:
    """The collections a module declared it reads, by `<module>.<collection>`."""

    def __init__(self, db: Any, grants: Iterable[str], *, module: str) -> None:
        self.db, self.module = db, module
        self.grants = parse_grants(grants, module=module)

    def collection(self, grant: str) -> ReadOnlyCollection:
        if grant not in self.grants:
            raise Forbidden(f"The module {self.module!r} declared no read grant for {grant!r}",
                            details={"field": "grant", "declared": self.grants})
        owner, name = grant.split(".", 1)
        return ReadOnlyCollection(self.db[f"{owner}_{name}"], grant)
