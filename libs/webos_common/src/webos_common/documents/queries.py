"""The lists a document serves, declared once, and the indexes derived from them (seed 004).

    class Task(OwnedDocument):
        class Settings:
            queries = [ListQuery(),                                   # the default list: newest first
                       ListQuery(filter=["status"], sort=["-priority", "due_date"])]

A query is equality `filter` fields and a `sort` (`"-created_at"`: descending). Without a
declaration a document serves the default list. Each query gets one index per path the
repository's scope reaches rows by: everyone's live rows (admins, and documents nobody owns),
and for an `OwnedDocument` also the rows a person reaches, by the row's `reach` (its owner,
assignees and shares, `documents.sharing.row_reach`): one multikey index, which MongoDB walks
once per key of the person (`u:<id>`, `r:<role>`) and merges in sort order (`SORT_MERGE`) in
one query: no collection scan, no sort in memory. `ensure_query_indexes` creates them (the
module host does at start, through `db.init_documents`), fills `reach` on rows written before
it existed, and drops the indexes of the earlier one-query-per-path scheme.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loguru import logger
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import OperationFailure

from webos_common.documents.search import SEARCH_FIELD, searchable

Keys = list[tuple[str, int]]

_CONFLICT = {85, 86}  # IndexOptionsConflict / IndexKeySpecsConflict: the same keys under another name
# (name, leading keys, partial filter): the path of `BeanieRepository.scope` for a person
_OWNED_PATHS: tuple[tuple[str, Keys, dict[str, Any] | None], ...] = (
    ("reach", [("reach", ASCENDING)], None),
)
# what each row's owner, assignees and shares reach (`documents.sharing.row_reach`), server-side
_ROW_REACH = {"$setUnion": [
    {"$cond": [{"$gt": ["$owner_id", ""]}, [{"$concat": ["u:", "$owner_id"]}], []]},
    {"$map": {"input": {"$ifNull": ["$assignees", []]}, "in": {"$concat": ["u:", "$$this"]}}},
    {"$map": {"input": {"$ifNull": ["$shares", []]},
              "in": {"$concat": [{"$cond": [{"$eq": ["$$this.kind", "role"]}, "r:", "u:"]}, "$$this.id"]}}},
]}
_EARLIER_PATHS = ("webos_owner:", "webos_assignee:", "webos_share:")  # one query per path, before `reach`
_EVERYONE: tuple[str, Keys, dict[str, Any] | None] = ("all", [], None)


def sort_keys(sort: Iterable[str]) -> Keys:
    """`["-due_date", "title"]` -> `[("due_date", -1), ("title", 1)]`."""
    return [(s[1:], DESCENDING) if s.startswith("-") else (s, ASCENDING) for s in sort]


@dataclass(frozen=True)
class ListQuery:
    """A list a document serves: rows equal on `filter`, in `sort` order (`_id` breaks ties)."""

    sort: tuple[str, ...] = ("-created_at",)
    filter: tuple[str, ...] = ()

    def __init__(self, *, sort: Sequence[str] = ("-created_at",), filter: Sequence[str] = ()) -> None:
        if isinstance(sort, str) or isinstance(filter, str):
            raise TypeError("sort and filter are lists of field names")
        if not sort:
            raise ValueError("a list query needs a sort")
        object.__setattr__(self, "sort", tuple(sort))
        object.__setattr__(self, "filter", tuple(filter))

    @property
    def keys(self) -> Keys:
        """The sort with the `_id` tie-break the repository adds."""
        keys = sort_keys(self.sort)
        return keys if keys[-1][0] == "_id" else [*keys, ("_id", keys[-1][1])]

    def describe(self) -> str:
        return f"filter {list(self.filter)} sort {list(self.sort)}"


def declared_queries(document: type) -> list[ListQuery]:
    """`Settings.queries`, or the default list (newest first) when a document declares none."""
    settings = getattr(document, "Settings", None)
    queries = getattr(settings, "queries", None)
    return [ListQuery()] if queries is None else list(queries)


def _owned(document: type) -> bool:
    from webos_common.documents.base import OwnedDocument

    return isinstance(document, type) and issubclass(document, OwnedDocument)


def _keys(lead: Keys, query: ListQuery) -> Keys:
    return [*lead, ("deleted_at", ASCENDING), *((f, ASCENDING) for f in query.filter), *query.keys]


def query_indexes(document: type) -> list[IndexModel]:
    """One index per declared query and reach path (identical key patterns once), and for a
    document with searchable fields one on their words (`documents.search`): not led by `reach`
    (MongoDB indexes at most one array of a row), a person's rows are filtered after it."""
    paths = (_EVERYONE, *_OWNED_PATHS) if _owned(document) else (_EVERYONE,)
    seen: dict[tuple[tuple[str, int], ...], IndexModel] = {}
    for query in declared_queries(document):
        for name, lead, partial in paths:
            keys = _keys(lead, query)
            if tuple(keys) in seen:
                continue
            options: dict[str, Any] = {"name": _name(name, query)}
            if partial is not None:
                options["partialFilterExpression"] = partial
            seen[tuple(keys)] = IndexModel(keys, **options)
    fields = searchable(document)
    if fields:
        keys = [(SEARCH_FIELD, ASCENDING), ("deleted_at", ASCENDING)]
        seen[tuple(keys)] = IndexModel(keys, name=f"webos_search:{','.join(fields)}")
    return list(seen.values())


def index_for(document: type, clause: Mapping[str, Any], equal: Iterable[str],
              order: Sequence[tuple[str, int]]) -> Keys | None:
    """The keys of the index that serves the branch `clause` of the scope (a reach path), rows equal
    on the fields `equal`, in `order`: the declared query of that order matching most of `equal`."""
    lead = next((keys for _, keys, _ in _OWNED_PATHS if keys[0][0] in clause), None)
    fields = set(equal)
    fitting = [q for q in declared_queries(document) if q.keys == list(order) and fields.issuperset(q.filter)]
    if lead is None or not fitting:
        return None
    return _keys(lead, max(fitting, key=lambda q: len(q.filter)))


def _name(path: str, query: ListQuery) -> str:
    where = "+".join(query.filter)
    return f"webos_{path}{':' + where if where else ''}:{','.join(query.sort)}"


async def ensure_query_indexes(document: type) -> list[str]:
    """Create the indexes of `document`'s declared queries (a no-op for those that exist);
    an index already there with the same keys under another name is kept. Their names.
    For an owned document, rows without `reach` get it first, and the earlier paths' indexes go."""
    collection = document.get_pymongo_collection()  # type: ignore[attr-defined]
    if _owned(document):
        await collection.update_many({"reach": {"$exists": False}}, [{"$set": {"reach": _ROW_REACH}}])
        for name in await collection.index_information():
            if name.startswith(_EARLIER_PATHS):
                await collection.drop_index(name)
    models = query_indexes(document)
    if not models:
        return []
    try:
        return list(await collection.create_indexes(models))
    except OperationFailure as exc:
        if exc.code not in _CONFLICT:
            raise
    made = []
    for model in models:  # one by one, keeping what exists under an older name
        try:
            made += await collection.create_indexes([model])
        except OperationFailure as exc:
            if exc.code not in _CONFLICT:
                raise
            logger.info("{}: index {} exists under another name", collection.name, model.document["name"])
    return made


def scan_stages(explain: Mapping[str, Any]) -> list[str]:
    """The stages of an explained query's winning plan that read every row (`COLLSCAN`) or
    sort in memory (`SORT`); empty when indexes serve it.

    One sort in memory is not one: that of the rows of a quick search's words-index range
    (`documents.search`). No index can give those in the list's order (the range is of words, and
    a person's rows are filtered after it), and MongoDB's planner picks it only when the range is
    small: it races it against walking the list's sort index, and a sort yields no row before it
    has read its whole input, so it wins only by reading every row of the range first (a rare
    word); a common word is served by the sort index's walk."""
    planner = explain.get("queryPlanner", explain)
    winning = planner.get("winningPlan", {})
    found: list[str] = []
    _walk(winning.get("queryPlan", winning), found)
    return found


def _walk(stage: Mapping[str, Any], found: list[str]) -> None:
    if stage.get("stage") == "COLLSCAN" or (stage.get("stage") == "SORT" and not _of_words(stage)):
        found.append(str(stage["stage"]))
    for child in _children(stage):
        _walk(child, found)


def _children(stage: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in [stage.get("inputStage"), *stage.get("inputStages", [])] if isinstance(c, Mapping)]


def _of_words(stage: Mapping[str, Any]) -> bool:
    """True when every index a stage reads is led by the search words (a quick search's range)."""
    scans: list[Mapping[str, Any]] = []
    todo = _children(stage)
    while todo:
        child = todo.pop()
        if child.get("stage") in ("IXSCAN", "COLLSCAN"):
            scans.append(child)
        todo += _children(child)
    return bool(scans) and all(next(iter(s.get("keyPattern", {})), None) == SEARCH_FIELD for s in scans)
