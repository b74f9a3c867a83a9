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

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument

from webos_common import context
from webos_common.documents.base import OWNER_FIELD, CoreDocument, OwnedDocument, utcnow
from webos_common.documents.ports import MAX_LIMIT, Filter, Page, Sort, cap_limit
from webos_common.documents.sharing import RecordRule, access_clauses
from webos_common.errors import Forbidden, NotFound, Unauthorized
from webos_common.identity import User

D = TypeVar("D", bound=CoreDocument)

# changed only by their own use cases (sharing and assigning go through `set_access`)
_PROTECTED = frozenset({"_id", "id", OWNER_FIELD, "created_at", "created_by", "deleted_at", "deleted_by",
                        "shares", "assignees"})


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


def _set_id(doc: CoreDocument, new_id: ObjectId) -> None:
    """Set the id without Beanie's validate-on-assignment (the server made it)."""
    object.__getattribute__(doc, "__dict__")["id"] = new_id
    object.__getattribute__(doc, "__pydantic_fields_set__").add("id")


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
        user = self.user()
        scope: dict[str, Any] = {"deleted_at": {"$ne": None}} if deleted else {"deleted_at": None}
        if self.owned and user is not None and not user.is_admin:
            scope["$or"] = access_clauses(user, write=write, rules=self.rules() if self.rules else ())
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

    # -- writes -----------------------------------------------------------
    def _stamp(self, doc: D, user: User | None, now: datetime) -> dict[str, Any]:
        """The row to write, with audit fields (and owner) set on both row and document."""
        uid = user.id if user else None
        cls = type(doc)
        if _bson_ready(cls):  # the validated values are what MongoDB stores: copy, don't serialise
            data = dict(object.__getattribute__(doc, "__dict__"))
            data["_id"] = data.pop("id", None)
        else:
            data = cls.__pydantic_serializer__.to_python(doc, by_alias=True)
        data.pop("revision_id", None)
        if data.get("_id") is None:
            data.pop("_id", None)
        stamp: dict[str, Any] = {"created_at": now, "created_by": uid, "updated_at": now, "updated_by": uid}
        if self.owned and uid and not (data.get(OWNER_FIELD) and user and user.is_admin):
            stamp[OWNER_FIELD] = uid
        data.update(stamp)
        object.__getattribute__(doc, "__dict__").update(stamp)
        return data

    async def insert(self, doc: D, *, session: Any = None) -> D:
        data = self._stamp(doc, self.user(), utcnow())
        result = await self.collection.insert_one(data, session=session)
        _set_id(doc, result.inserted_id)
        return doc

    async def insert_many(self, docs: Sequence[D], *, session: Any = None) -> list[D]:
        if not docs:
            return []
        user = self.user()
        now = utcnow()
        rows = [self._stamp(doc, user, now) for doc in docs]
        result = await self.collection.insert_many(rows, session=session)
        for doc, new_id in zip(docs, result.inserted_ids, strict=True):
            _set_id(doc, new_id)
        return list(docs)

    def _changes(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        user = context.current_user.get()
        data = {k: v for k, v in changes.items() if k not in _PROTECTED}
        data["updated_at"] = utcnow()
        data["updated_by"] = user.id if user else None
        return data

    async def update(self, id: Any, changes: Mapping[str, Any], *, session: Any = None) -> D:
        return await self._find_and_set(id, self._changes(changes), session=session)

    async def update_many(self, ids: Sequence[Any], changes: Mapping[str, Any], *, session: Any = None) -> int:
        query = self.scoped({"_id": {"$in": [object_id(i) for i in ids]}}, write=True)
        result = await self.collection.update_many(query, {"$set": self._changes(changes)}, session=session)
        return int(result.modified_count)

    async def delete(self, id: Any, *, session: Any = None) -> D:
        user = context.current_user.get()
        return await self._find_and_set(
            id, {"deleted_at": utcnow(), "deleted_by": user.id if user else None}, session=session)

    async def restore(self, id: Any, *, session: Any = None) -> D:
        return await self._find_and_set(id, {"deleted_at": None, "deleted_by": None}, deleted=True,
                                        session=session)

    async def purge(self, id: Any, *, session: Any = None) -> None:
        user = self.user()
        if user is None or not user.is_admin:
            raise Forbidden("Only an admin may purge", details={"permission": "admin"})
        result = await self.collection.delete_one({"_id": object_id(id)}, session=session)
        if result.deleted_count == 0:
            raise NotFound(f"No {self.label} with id {id}")

    async def set_access(self, id: Any, *, shares: list[dict[str, str]] | None = None,
                         assignees: list[str] | None = None, session: Any = None) -> D:
        """Replace the row's shares and/or assignees (needs write access to it)."""
        values: dict[str, Any] = self._changes({})
        if shares is not None:
            values["shares"] = shares
        if assignees is not None:
            values["assignees"] = assignees
        return await self._find_and_set(id, values, session=session)

    async def _find_and_set(self, id: Any, values: dict[str, Any], *, deleted: bool = False,
                            session: Any = None) -> D:
        query = self.scoped({"_id": object_id(id)}, deleted=deleted, write=True)
        raw = await self.collection.find_one_and_update(
            query, {"$set": values}, return_document=ReturnDocument.AFTER, session=session)
        if raw is None:
            raise NotFound(f"No {self.label} with id {id}")
        doc: D = self.document.__pydantic_validator__.validate_python(raw)
        return doc

    # -- reads ------------------------------------------------------------
    async def get(self, id: Any, *, deleted: bool = False) -> D:
        raw = await self.collection.find_one(self.scoped({"_id": object_id(id)}, deleted=deleted))
        if raw is None:
            raise NotFound(f"No {self.label} with id {id}")
        doc: D = self.document.__pydantic_validator__.validate_python(raw)
        return doc

    async def find(self, filter: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None, deleted: bool = False) -> list[D]:
        limit = cap_limit(limit, self.max_limit)
        cursor = self.collection.find(self.scoped(filter, deleted=deleted), skip=max(0, skip), limit=limit,
                                      sort=list(sort) if sort else None)
        rows = await cursor.to_list(limit)
        validate = self.document.__pydantic_validator__.validate_python
        return [validate(raw) for raw in rows]

    async def count(self, filter: Filter | None = None, *, deleted: bool = False) -> int:
        return int(await self.collection.count_documents(self.scoped(filter, deleted=deleted)))

    async def page(self, filter: Filter | None = None, *, skip: int = 0, limit: int | None = None,
                   sort: Sort | None = None, deleted: bool = False) -> Page[D]:
        limit = cap_limit(limit, self.max_limit)
        skip = max(0, skip)
        items = await self.find(filter, skip=skip, limit=limit, sort=sort, deleted=deleted)
        if skip == 0 and len(items) < limit:
            total = len(items)
        else:
            total = await self.count(filter, deleted=deleted)
        return Page[D].of(items, total=total, skip=skip, limit=limit)

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        stages = [{"$match": self.scope()}, *pipeline]
        cursor = await self.collection.aggregate(stages)
        return [row async for row in cursor]
