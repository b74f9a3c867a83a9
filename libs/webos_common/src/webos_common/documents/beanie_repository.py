"""The repository adapter for Beanie documents.

Beanie registers the documents (collections, indexes); the hot paths talk
to the PyMongo collection directly — one round trip, one validation — so
the scoping costs a filter, not an ODM. Every query carries the scope:
`deleted_at: None` (or not None for the trash) and, for an `OwnedDocument`
used by a non-admin, what that person may reach (`documents.sharing`): their
own rows, rows shared with them or one of their roles, rows assigned to them,
and rows a record rule of one of their roles covers — for a write, only
those shared with write access. Any other row is simply not found (404),
never forbidden.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from bson import ObjectId
from bson.errors import InvalidId
from loguru import logger
from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from webos_common import context
from webos_common.compat.beanie import set_id, stored
from webos_common.compat.beanie import stamp as set_fields
from webos_common.documents import keyset
from webos_common.documents.base import OWNER_FIELD, CoreDocument, OwnedDocument, utcnow
from webos_common.documents.merge import merged
from webos_common.documents.ports import MAX_LIMIT, AnyPage, Filter, Page, Sort, cap_limit
from webos_common.documents.queries import index_for
from webos_common.documents.search import SEARCH_FIELD, row_words, searchable, word_updates
from webos_common.documents.sharing import (
    REACH_FIELD,
    RecordRule,
    access_clauses,
    row_reach,
    rule_clauses,
    user_reach,
)
from webos_common.http.errors import Forbidden, NotFound, PreconditionFailed, Unauthorized
from webos_common.identity import User

D = TypeVar("D", bound=CoreDocument)
_BAD_VALUE = 2  # what a hint naming no index gets
Path = tuple[dict[str, Any], list[tuple[str, int]] | None]  # a query and the keys of its index (None: any)

# changed only by their own use cases (sharing and assigning go through `set_access`)
_PROTECTED = frozenset({"_id", "id", OWNER_FIELD, "created_at", "created_by", "deleted_at", "deleted_by",
                        "shares", "assignees", "version", REACH_FIELD, SEARCH_FIELD})


_ATOMS = (str, int, float, bool, datetime, ObjectId, type(None))
_READY: dict[type, bool] = {}


def _plain(annotation: Any) -> bool:
    """True when every value of this type is stored by BSON as is (no pydantic serialisation)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _plain(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return all(_plain(arg) for arg in get_args(annotation))
    if origin in (list, dict):
        args = get_args(annotation)
        return bool(args) and all(_plain(arg) for arg in args)
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return issubclass(annotation, (str, int))
        return issubclass(annotation, _ATOMS)
    return False


def _bson_ready(cls: type[CoreDocument]) -> bool:
    ready = _READY.get(cls)
    if ready is None:
        ready = _READY[cls] = all(_plain(f.annotation) for n, f in cls.model_fields.items() if n != "revision_id")
    return ready


def etag(version: int) -> str:
    """The strong entity tag of a row at `version` (RFC 9110 §8.8.3)."""
    return f'"{version}"'


def _version_filter(version: int | None) -> dict[str, Any]:
    """Rows at `version`; 0 is a row written before versions existed (no field yet)."""
    if version is None:
        return {"version": -1}  # no version given for this row: it cannot match
    return {"version": version} if version else {"version": {"$in": [0, None]}}


def _at_versions(oids: Sequence[ObjectId], versions: Mapping[str, int]) -> dict[str, Any]:
    """The rows of `oids` each at its version: one `$in` per version, not one clause per row (an `$or`
    of 500 `_id`s, planned branch by branch, cost MongoDB ~140 ms CPU a request: bench/bulk.py)."""
    by_version: dict[int | None, list[ObjectId]] = {}
    for oid in oids:
        by_version.setdefault(versions.get(str(oid)), []).append(oid)
    branches = [{"_id": {"$in": group}, **_version_filter(version)} for version, group in by_version.items()]
    return branches[0] if len(branches) == 1 else {"$or": branches}


def _current(row: Mapping[str, Any]) -> dict[str, Any]:
    """Who last changed a row, when, and its version: what a 412 tells the person who lost the race."""
    updated = row.get("updated_at")
    return {"id": str(row["_id"]), "version": int(row.get("version") or 0), "updated_by": row.get("updated_by"),
            "updated_at": updated.isoformat() if isinstance(updated, datetime) else updated}


def _with_tiebreak(sort: Sort | None) -> list[tuple[str, int]] | None:
    """A stable order across pages: `_id` breaks ties of the sort key (and keeps to its index)."""
    if not sort:
        return None
    keys = list(sort)
    if all(name != "_id" for name, _ in keys):
        keys.append(("_id", keys[-1][1]))
    return keys


def _projection(fields: Sequence[str] | None, order: Sort | None) -> dict[str, int] | None:
    """The fields asked for, and the sort keys (the next page's cursor is made of them)."""
    if not fields:
        return None
    wanted = {("_id" if f == "id" else f): 1 for f in fields}
    wanted.update({name: 1 for name, _ in order or ()})
    return wanted


def _as_stored(value: Any) -> Any:
    """A value as MongoDB gives it back: its dates hold milliseconds."""
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def _renamed_id(row: dict[str, Any]) -> dict[str, Any]:
    if "_id" in row:
        row["id"] = str(row.pop("_id"))
    return row


def object_id(value: Any) -> ObjectId:
    """An ObjectId from a string; a malformed id is simply not found."""
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError) as exc:
        raise NotFound(f"No item with id {value}") from exc


class BeanieRepository(Generic[D]):
    def __init__(self, document: type[D], *, max_limit: int = MAX_LIMIT,
                 rules: Callable[[], Sequence[RecordRule]] | None = None) -> None:
        self.document = document
        self.owned = issubclass(document, OwnedDocument)
        self.max_limit = max_limit
        self.label = document.__name__
        self.rules = rules  # the record rules in force now (an admin may change them at any time)
        self.search = searchable(document)  # whose words `search_words` holds (`documents.search`)

    @property
    def collection(self) -> Any:
        return self.document.get_pymongo_collection()

    # -- scope ------------------------------------------------------------
    def user(self) -> User | None:
        user = context.current_user.get()
        if user is None and self.owned:
            raise Unauthorized("Sign-in required")
        return user

    def scope(self, *, deleted: bool = False, write: bool = False) -> dict[str, Any]:
        """Live (or deleted) rows the context's person may read: those whose `reach` names them or
        one of their roles, and those a record rule covers; for a write, the `$or` of `access_clauses`
        (a share must give write access)."""
        user = self.user()
        scope: dict[str, Any] = {"deleted_at": {"$ne": None}} if deleted else {"deleted_at": None}
        if self.owned and user is not None and not user.is_admin:
            rules = self.rules() if self.rules else ()
            if write:
                scope["$or"] = access_clauses(user, write=True, rules=rules)
                return scope
            reach = {REACH_FIELD: {"$in": user_reach(user)}}
            ruled = rule_clauses(user, write=False, rules=rules)
            if ruled:
                scope["$or"] = [reach, *ruled]
            else:
                scope.update(reach)
        return scope

    def scoped(self, filter: Filter | None, *, deleted: bool = False, write: bool = False) -> dict[str, Any]:
        query = dict(filter or {})
        scope = self.scope(deleted=deleted, write=write)
        reach = scope.pop("$or", None)
        query.update(scope)
        if reach is not None:
            if "$or" in query:  # the caller's own alternatives and the access rule must both hold
                return {"$and": [query, {"$or": reach}]}
            query["$or"] = reach
        return query

    def paths(self, filter: Filter | None, *, sort: Sort | None, deleted: bool = False) -> list[Path]:
        """A sorted read as one query per path the scope reaches rows by, each with the index that
        serves it in order (`documents.queries`): the person's rows by their `reach` (one multikey
        index, which MongoDB walks once per key and merges in order), and one per record rule.
        MongoDB plans the branches of one `$or` without the sort, so one query would pick an index
        per branch that may not keep the order."""
        query = dict(filter or {})
        scope = self.scope(deleted=deleted)
        branches = scope.pop("$or", None)
        if not sort:
            return [(self.scoped(filter, deleted=deleted), None)]
        query.update(scope)
        keys = [k for k, v in query.items() if not k.startswith("$") and not isinstance(v, dict)]

        def index(clause: Mapping[str, Any]) -> list[tuple[str, int]] | None:
            # a quick search is left to MongoDB's planner: the words index for a rare word, the
            # sort's for a common one (`documents.search`); a hint would force the sort's walk
            return None if SEARCH_FIELD in query else index_for(self.document, clause, keys, sort)

        if branches is None:  # everyone's rows (an admin), or the person's by their `reach`: one query
            return [(query, index(query))]
        return [(keyset.combine(query, clause), index(clause)) for clause in branches]

    # -- writes -----------------------------------------------------------
    def _stamp(self, doc: D, user: User | None, now: datetime) -> dict[str, Any]:
        """The row to write, with audit fields (and owner) set on both row and document."""
        uid = user.id if user else None
        cls = type(doc)
        if _bson_ready(cls):  # the validated values are what MongoDB stores: copy, don't serialise
            data = stored(doc)
            data["_id"] = data.pop("id", None)
        else:
            data = cls.__pydantic_serializer__.to_python(doc, by_alias=True)
        data.pop("revision_id", None)
        if data.get("_id") is None:
            data.pop("_id", None)
        stamp: dict[str, Any] = {"created_at": now, "created_by": uid, "updated_at": now, "updated_by": uid,
                                 "version": 1}
        if self.owned and uid and not (data.get(OWNER_FIELD) and user and user.is_admin):
            stamp[OWNER_FIELD] = uid
        data.update(stamp)
        set_fields(doc, stamp)
        if self.owned:
            data[REACH_FIELD] = row_reach(data.get(OWNER_FIELD), data.get("assignees"), data.get("shares"))
        if self.search:
            data[SEARCH_FIELD] = row_words(data, self.search)
        return data

    async def insert(self, doc: D, *, session: Any = None) -> D:
        data = self._stamp(doc, self.user(), utcnow())
        result = await self.collection.insert_one(data, session=session)
        set_id(doc, result.inserted_id)
        return doc

    async def insert_many(self, docs: Sequence[D], *, session: Any = None) -> list[D]:
        if not docs:
            return []
        user = self.user()
        now = utcnow()
        rows = [self._stamp(doc, user, now) for doc in docs]
        result = await self.collection.insert_many(rows, session=session)
        for doc, new_id in zip(docs, result.inserted_ids, strict=True):
            set_id(doc, new_id)
        return list(docs)

    def _changes(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        user = context.current_user.get()
        data = {k: v for k, v in changes.items() if k not in _PROTECTED}
        data["updated_at"] = utcnow()
        data["updated_by"] = user.id if user else None
        if self.search and data.keys() >= set(self.search):  # all of them: the words are known here
            data[SEARCH_FIELD] = row_words(data, self.search)
        return data

    def _partial(self, values: Mapping[str, Any]) -> bool:
        """True when a change sets some searchable fields but not all: the row's words need the
        others' stored values (`_rewords`, after the write)."""
        return bool(self.search) and SEARCH_FIELD not in values and not values.keys().isdisjoint(self.search)

    async def _rewords(self, query: Mapping[str, Any], session: Any) -> None:
        """Write the words of the rows of `query` from their stored fields (where they changed)."""
        rows = await self.collection.find(query, {SEARCH_FIELD: 1, **{f: 1 for f in self.search}},
                                          session=session).to_list(None)
        writes = word_updates(rows, self.search)
        if writes:
            await self.collection.bulk_write(writes, ordered=False, session=session)

    async def update(self, id: Any, changes: Mapping[str, Any], *, version: int | None = None,
                     session: Any = None) -> D:
        return await self._find_and_set(id, self._changes(changes), version=version, session=session)

    async def update_from(self, id: Any, changes: Mapping[str, Any], *, version: int | None = None,
                          session: Any = None) -> tuple[D, D]:
        """(before, after) of `update`, in one round trip: MongoDB answers with the row as it was
        and the change is applied to it here (what `$set` and the version's `$inc` do)."""
        values = self._changes(changes)
        raw = await self._find_and_modify(id, values, version=version, deleted=False, session=session,
                                          after=False)
        validate = self.document.__pydantic_validator__.validate_python
        after = {**raw, **{k: _as_stored(v) for k, v in values.items()}, "version": int(raw.get("version") or 0) + 1}
        return validate(raw), validate(after)

    async def update_many(self, ids: Sequence[Any], changes: Mapping[str, Any], *,
                          versions: Mapping[str, int] | None = None, session: Any = None) -> int:
        """Change every row of `ids`; with `versions` (id -> version) all of them or, when one is stale,
        none (412 naming the stale rows; the caller's transaction aborts)."""
        values = self._changes(changes)
        oids = [object_id(i) for i in ids]
        if versions is None:
            query = self.scoped({"_id": {"$in": oids}}, write=True)
            result = await self.collection.update_many(
                query, {"$set": values, "$inc": {"version": 1}}, session=session)
            if self._partial(values):
                await self._rewords(query, session)
            return int(result.modified_count)
        stale = await self._stale(oids, versions, session=session)  # in the caller's transaction
        if stale:
            raise PreconditionFailed(f"{len(stale)} {self.label} rows changed since they were read",
                                     details={"stale": stale})
        query = self.scoped(_at_versions(oids, versions), write=True)
        result = await self.collection.update_many(query, {"$set": values, "$inc": {"version": 1}},
                                                   session=session)
        if self._partial(values):  # the rows are at the next version now
            await self._rewords(self.scoped({"_id": {"$in": oids}}, write=True), session)
        return int(result.modified_count)

    async def _stale(self, oids: Sequence[ObjectId], versions: Mapping[str, int], *,
                     session: Any = None) -> list[dict[str, Any]]:
        cursor = self.collection.find(self.scoped({"_id": {"$in": list(oids)}}),
                                      {"version": 1, "updated_at": 1, "updated_by": 1}, session=session)
        return [_current(row) for row in await cursor.to_list(None)
                if int(row.get("version") or 0) != versions.get(str(row["_id"]), -1)]

    async def delete(self, id: Any, *, version: int | None = None, session: Any = None) -> D:
        user = context.current_user.get()
        return await self._find_and_set(
            id, {"deleted_at": utcnow(), "deleted_by": user.id if user else None}, version=version, session=session)

    async def restore(self, id: Any, *, version: int | None = None, session: Any = None) -> D:
        return await self._find_and_set(id, {"deleted_at": None, "deleted_by": None}, deleted=True,
                                        version=version, session=session)

    async def purge(self, id: Any, *, session: Any = None) -> None:
        user = self.user()
        if user is None or not user.is_admin:
            raise Forbidden("Only an admin may purge", details={"permission": "admin"})
        result = await self.collection.delete_one({"_id": object_id(id)}, session=session)
        if result.deleted_count == 0:
            raise NotFound(f"No {self.label} with id {id}")

    async def set_access(self, id: Any, *, shares: list[dict[str, str]] | None = None,
                         assignees: list[str] | None = None, version: int | None = None,
                         session: Any = None) -> D:
        """Replace the row's shares and/or assignees (needs write access to it; only at `version`,
        when given: 412 naming the current one otherwise)."""
        values: dict[str, Any] = self._changes({})
        if shares is not None:
            values["shares"] = shares
        if assignees is not None:
            values["assignees"] = assignees
        raw = await self._find_and_modify(id, values, deleted=False, version=version, session=session)
        reach = row_reach(raw.get(OWNER_FIELD), raw.get("assignees"), raw.get("shares"))
        if reach != raw.get(REACH_FIELD):
            await self.collection.update_one({"_id": raw["_id"]}, {"$set": {REACH_FIELD: reach}}, session=session)
        doc: D = self.document.__pydantic_validator__.validate_python(raw)
        return doc

    async def _find_and_set(self, id: Any, values: dict[str, Any], *, deleted: bool = False,
                            version: int | None = None, session: Any = None) -> D:
        raw = await self._find_and_modify(id, values, version=version, deleted=deleted, session=session)
        doc: D = self.document.__pydantic_validator__.validate_python(raw)
        return doc

    async def _find_and_modify(self, id: Any, values: dict[str, Any], *, deleted: bool, version: int | None,
                               session: Any, after: bool = True) -> dict[str, Any]:
        query = self.scoped({"_id": object_id(id)}, deleted=deleted, write=True)
        if version is not None:
            query.update(_version_filter(version))
        raw: dict[str, Any] | None = await self.collection.find_one_and_update(
            query, {"$set": values, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER if after else ReturnDocument.BEFORE, session=session)
        if raw is None:
            if version is not None:
                await self._precondition(id, version, deleted=deleted, session=session)
            raise NotFound(f"No {self.label} with id {id}")
        if self._partial(values):  # the row as written (`after`), or as it was with the change
            written = raw if after else {**raw, **values}
            writes = word_updates([written], self.search)
            if writes:
                await self.collection.bulk_write(writes, session=session)
                if after:
                    raw[SEARCH_FIELD] = row_words(written, self.search)
        return raw

    async def _precondition(self, id: Any, version: int, *, deleted: bool, session: Any) -> None:
        """Raise 412 naming the current version when the row exists but `version` is not it (a
        row at `version` that one may read but not write is left to the caller's 404)."""
        row = await self.collection.find_one(self.scoped({"_id": object_id(id)}, deleted=deleted),
                                             {"version": 1, "updated_at": 1, "updated_by": 1}, session=session)
        if row is not None and int(row.get("version") or 0) != version:
            current = _current(row)
            raise PreconditionFailed(
                f"{self.label} {id} is at version {current['version']}, not {version}: it changed since it was read",
                etag=etag(current["version"]), details=current)

    # -- reads ------------------------------------------------------------
    async def get(self, id: Any, *, deleted: bool = False, session: Any = None) -> D:
        raw = await self.collection.find_one(self.scoped({"_id": object_id(id)}, deleted=deleted), session=session)
        if raw is None:
            raise NotFound(f"No {self.label} with id {id}")
        doc: D = self.document.__pydantic_validator__.validate_python(raw)
        return doc

    async def find(self, filter: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None, deleted: bool = False) -> list[D]:
        limit = cap_limit(limit, self.max_limit)
        rows = await self._rows(filter, skip=skip, limit=limit, sort=sort, deleted=deleted)
        validate = self.document.__pydantic_validator__.validate_python
        return [validate(raw) for raw in rows]

    def _queries(self, filter: Filter | None, *, sort: Sort | None, deleted: bool,
                 cursor: str | None = None) -> tuple[list[Path], list[tuple[str, int]] | None]:
        """The queries of a read and its order (`cursor`: only the rows after that position)."""
        order = _with_tiebreak(sort or ([("_id", 1)] if cursor else None))
        if cursor is not None:
            assert order is not None
            filter = keyset.combine(filter or {}, keyset.after(order, keyset.decode(cursor, order)))
        return self.paths(filter, sort=order, deleted=deleted), order

    async def _rows(self, filter: Filter | None, *, skip: int, limit: int, sort: Sort | None, deleted: bool,
                    fields: Sequence[str] | None = None, cursor: str | None = None) -> list[dict[str, Any]]:
        queries, order = self._queries(filter, sort=sort, deleted=deleted, cursor=cursor)
        projection = _projection(fields, order)
        if len(queries) == 1:
            query, hint = queries[0]
            return await self._find(query, projection, skip=max(0, skip), limit=limit, sort=order, hint=hint)
        assert order is not None
        found = await asyncio.gather(*(self._find(query, projection, skip=0, limit=skip + limit, sort=order,
                                                  hint=hint) for query, hint in queries))
        return merged(order, found, skip=skip, limit=limit)

    async def _find(self, query: dict[str, Any], projection: dict[str, int] | None, *, skip: int, limit: int,
                    sort: list[tuple[str, int]] | None, hint: Any) -> list[dict[str, Any]]:
        options: dict[str, Any] = {"hint": hint} if hint else {}
        try:
            rows: list[dict[str, Any]] = await self.collection.find(
                query, projection, skip=skip, limit=limit, sort=sort, **options).to_list(limit)
        except OperationFailure as exc:
            if not hint or exc.code != _BAD_VALUE:
                raise
            logger.warning("{}: no index {} (a declared query's): read without it", self.label, hint)
            return await self._find(query, projection, skip=skip, limit=limit, sort=sort, hint=None)
        return rows

    async def explain(self, filter: Filter | None = None, *, sort: Sort | None = None, limit: int = 21,
                      deleted: bool = False, cursor: str | None = None) -> list[dict[str, Any]]:
        """MongoDB's plans of the queries a page with these options runs (see `queries.scan_stages`)."""
        queries, order = self._queries(filter, sort=sort, deleted=deleted, cursor=cursor)
        return [await self.collection.find(query, sort=order, limit=limit, **({"hint": hint} if hint else {})
                                           ).explain() for query, hint in queries]

    async def count(self, filter: Filter | None = None, *, deleted: bool = False, limit: int | None = None) -> int:
        """The rows one may read (`limit`: counting stops there, so a count of a million rows costs
        what one of `limit` does)."""
        options = {"limit": limit} if limit else {}
        return int(await self.collection.count_documents(self.scoped(filter, deleted=deleted), **options))

    async def estimate(self, filter: Filter | None = None, *, deleted: bool = False) -> int:
        """The collection's row count from its metadata when the list is every row of it (no filter,
        nobody's scope); the exact count otherwise."""
        if not filter and not deleted and self.scope().keys() == {"deleted_at"}:
            return int(await self.collection.estimated_document_count())
        return await self.count(filter, deleted=deleted)

    async def page(self, filter: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None, deleted: bool = False, total: bool = False,
                   fields: Sequence[str] | None = None, cursor: str | None = None,
                   estimate: bool = False, count_cap: int | None = None) -> Page[Any]:
        """One page: `limit + 1` rows fetched to know `has_more`, and `next_cursor` (the rows after
        this page, see `keyset`). `total` is counted only when asked (`estimate`: from the collection's
        metadata where it can be; `count_cap`: up to that many rows, past it `more_than` says so) or known
        (the last page). With `fields`, items are those fields of the rows, unvalidated dicts."""
        limit = cap_limit(limit, self.max_limit)
        skip = max(0, skip)
        rows = await self._rows(filter, skip=skip, limit=limit + 1, sort=sort, deleted=deleted, fields=fields,
                                cursor=cursor)
        has_more = len(rows) > limit
        del rows[limit:]
        order = _with_tiebreak(sort)
        following = keyset.encode(order, rows[-1]) if has_more and rows and order else None
        items = self._items(rows, fields, order)
        count: int | None = skip + len(items) if not has_more and cursor is None else None
        more_than = None
        if count is None and count_cap and not total:
            count = await self.count(filter, deleted=deleted, limit=count_cap + 1)
            if count > count_cap:
                count, more_than = None, count_cap
        elif (total or estimate) and count is None:
            count = await (self.count(filter, deleted=deleted) if total else self.estimate(filter, deleted=deleted))
        return AnyPage(items=items, total=count, skip=skip, limit=limit, has_more=has_more,
                       next_cursor=following, more_than=more_than)

    def _items(self, rows: list[dict[str, Any]], fields: Sequence[str] | None,
               order: Sort | None) -> list[Any]:
        if fields:  # the rows hold the projection: the fields, `_id` and the sort keys (for the cursor)
            wanted = {"_id" if f == "id" else f for f in fields}
            extra = [key for key in {"_id", *(name for name, _ in order or ())} if key not in wanted]
            for row in rows:  # in place: a page of an export has a thousand rows
                for key in extra:
                    row.pop(key, None)
                _renamed_id(row)
            return rows
        validate = self.document.__pydantic_validator__.validate_python
        return [validate(raw) for raw in rows]

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        stages = [{"$match": self.scope()}, *pipeline]
        cursor = await self.collection.aggregate(stages)
        return [row async for row in cursor]
