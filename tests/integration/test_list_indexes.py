"""The scan check: every list each module under modules/ declares (`Settings.queries`) is
served by an index, for a person and for an admin, on a generated collection of realistic
size (on a handful of rows any plan looks as good to MongoDB's planner). A plan that reads
every row (`COLLSCAN`) or sorts in memory (`SORT`) fails it, naming the module, document and
query. A module's own tests cover what its lists answer; this covers what they cost."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from webos_common import context
from webos_common.documents import BeanieRepository, CoreDocument, ListQuery, db, declared_queries, scan_stages
from webos_common.documents.sharing import row_reach
from webos_common.identity import User
from webos_modulehost.discovery import load

MODULES = Path(__file__).resolve().parents[2] / "modules"
PEOPLE = [f"p{n}" for n in range(10)]
PERSON = User(id="p0", roles=("staff",), permissions=("*",))
ADMIN = User(id="root", roles=("admin",), permissions=("*",))
ROWS_PER_PERSON = 1000


def _modules() -> list[str]:
    return sorted(p.parent.name for p in MODULES.glob("*/pyproject.toml") if p.parent.name != "template")


def _declared() -> list[tuple[str, type[CoreDocument], ListQuery]]:
    found = []
    for name in _modules():
        for document in load(name, modules_dir=MODULES).documents:
            found += [(name, document, query) for query in declared_queries(document)]
    return found


def _row(owner: str, n: int, now: datetime, fields: set[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"_id": ObjectId(), "owner_id": owner, "created_at": now - timedelta(seconds=n),
                           "updated_at": now, "deleted_at": now if n % 20 == 0 else None, "version": 1,
                           "assignees": [random.choice(PEOPLE)] if n % 30 == 0 else [],
                           "shares": [{"kind": "user", "id": random.choice(PEOPLE), "access": "read"}]
                           if n % 50 == 0 else []}
    for field in fields - row.keys():
        row[field] = random.choice(["v0", "v1", "v2", None]) if n % 2 else random.randint(0, 1000)
    row["reach"] = row_reach(owner, row["assignees"], row["shares"])  # as the repository writes it
    return row


@pytest.fixture
async def database(mongo_url: str, db_name: str) -> AsyncIterator[tuple[Any, str]]:
    client = db.mongo_client(mongo_url)
    yield client, db_name
    await client.close()


def test_every_module_declares_its_lists() -> None:
    declared = {(name, document.__name__) for name, document, _ in _declared()}
    assert {"tasks", "inventory", "orders"} <= {name for name, _ in declared}
    assert ("tasks", "Task") in declared


@pytest.mark.parametrize(("module", "document", "query"), _declared(),
                         ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", None) or v.describe())
async def test_each_declared_list_is_served_by_an_index(database: tuple[Any, str], module: str,
                                                        document: type[CoreDocument], query: ListQuery) -> None:
    client, name = database
    await db.init_documents(client, name, [document])  # what the module host does at start
    fields = {*query.filter, *(f for f, _ in query.keys)}
    now = datetime.now(UTC)
    rows = [_row(owner, n, now, fields) for owner in PEOPLE for n in range(ROWS_PER_PERSON)]
    await document.get_pymongo_collection().insert_many(rows, ordered=False)
    repo = BeanieRepository(document)
    order = [(f, d) for f, d in query.keys if f != "_id"] or [("_id", query.keys[0][1])]
    for who in (PERSON, ADMIN):
        with context.as_user(who):
            plans = await repo.explain({f: "v1" for f in query.filter}, sort=order, limit=21)
        for plan in plans:
            assert scan_stages(plan) == [], (
                f"{module}: {document.__name__} {query.describe()} as {who.id}: "
                f"{plan['queryPlanner']['winningPlan']}")
