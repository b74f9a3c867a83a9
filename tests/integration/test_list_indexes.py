"""The scan check: every list each module under modules/ declares (`Settings.queries`) is
served by an index, for a person and for an admin, on a generated collection of realistic
size (on a handful of rows any plan looks as good to MongoDB's planner). A plan that reads
every row (`COLLSCAN`) or sorts in memory (`SORT`) fails it, naming the module, document and
query. A module's own tests cover what its lists answer; this covers what they cost. The tasks
grid's own lists (every order its columns offer, its quick search, its capped count) are checked
on 20,000 generated tasks with the module's indexes (`bench/million.py` times them on a million).
A quick search may sort in memory the rows of its words-index range (`scan_stages` says why)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from webos_common import context
from webos_common.documents import (
    SEARCH_FIELD,
    BeanieRepository,
    CoreDocument,
    ListQuery,
    db,
    declared_queries,
    scan_stages,
)
from webos_common.documents.ports import COUNT_CAP
from webos_common.documents.search import words
from webos_common.documents.sharing import row_reach
from webos_common.identity import User
from webos_modulehost.discovery import load
from webos_tasks.models import Task
from webos_tasks.service import SORTABLE, TaskService, parse_sort

MODULES = Path(__file__).resolve().parents[2] / "modules"
PEOPLE = [f"p{n}" for n in range(10)]
PERSON = User(id="p0", roles=("staff",))  # not "*" among the permissions: that is an admin's scope
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


GRID_ROWS = 20_000
GRID_PAGE = 25  # the shell grid's page
WORDS = ("report budget invoice meeting review draft plan release customer order supplier contract design "
         "test deploy backup audit payroll hiring roadmap launch website email call quote stock").split()
RARE = "zeppelin"  # in one task of 1,000


def _task(n: int, now: datetime, rnd: random.Random) -> dict[str, Any]:
    """A task as the module writes it, of one of ten people; some assigned, shared (with a person or
    the role `staff`), in the trash."""
    owner = PEOPLE[n % len(PEOPLE)]
    assignees = [rnd.choice(PEOPLE)] if n % 10 == 0 else []
    shares = [{"kind": "user", "id": rnd.choice(PEOPLE), "access": "read"}] if n % 20 == 0 else []
    shares += [{"kind": "role", "id": "staff", "access": "read"}] if n % 100 == 0 else []
    status = rnd.choice(("todo", "in_progress", "done"))
    created = now - timedelta(minutes=GRID_ROWS - n)
    title = " ".join(rnd.sample(WORDS, rnd.randint(2, 5)) + ([RARE] if n % 1000 == 20 else [])).capitalize()
    return {"_id": ObjectId(), "title": title, SEARCH_FIELD: words(title),  # as the repository writes them
            "description": "", "status": status, "priority": rnd.choice(("low", "medium", "high", "urgent")),
            "due_date": now + timedelta(days=rnd.randint(-90, 90)) if n % 10 < 7 else None,
            "tags": rnd.sample(["a", "b", "c", "d"], rnd.randint(0, 2)), "completed_at": None,
            "reminded_for": None, "attachment": None, "owner_id": owner, "assignees": assignees, "shares": shares,
            "reach": row_reach(owner, assignees, shares), "created_at": created, "created_by": owner,
            "updated_at": created + timedelta(hours=rnd.randint(0, 100)), "updated_by": owner,
            "deleted_at": now if n % 20 == 3 else None, "deleted_by": None, "version": 1}


@pytest.fixture
async def tasks(database: tuple[Any, str]) -> type[Task]:
    """20,000 tasks behind the tasks module's indexes, made as its host makes them at start."""
    client, name = database
    await db.init_documents(client, name, [Task])
    rnd, now = random.Random(20), datetime.now(UTC)
    await Task.get_pymongo_collection().insert_many([_task(n, now, rnd) for n in range(GRID_ROWS)], ordered=False)
    return Task


def _grid_lists() -> list[tuple[str, dict[str, Any], str | None]]:
    """What the grid asks the tasks list for: each column order it offers (`SORTABLE`) either way,
    its default, and the quick search box (`q`) of a common word, a rare one, the start of a word,
    two words and a word no title has, in the default order and the palette's (`-updated_at`)."""
    orders = [None, *(f"{d}{f}" for f in sorted(SORTABLE) for d in ("", "-"))]
    return ([(f"sort {o or 'default'}", {}, o) for o in orders]
            + [(f"quick search {w!r} {o or 'default'}", {"q": w}, o) for o in (None, "-updated_at")
               for w in ("report", RARE, "Pay", "zepp plan", "nosuchword")])


async def test_every_list_the_tasks_grid_asks_for_is_served_by_an_index(tasks: type[Task]) -> None:
    repo = BeanieRepository(tasks)
    missed = []
    for who in (PERSON, ADMIN):
        with context.as_user(who):
            for what, search, order in _grid_lists():
                plans = await repo.explain(TaskService.filters(**search), sort=parse_sort(order),
                                           limit=GRID_PAGE + 1)
                missed += [f"{what} as {who.id}: {plan['queryPlanner']['winningPlan']}"
                           for plan in plans if scan_stages(plan)]
    assert missed == []


@pytest.mark.parametrize("who", [PERSON, ADMIN], ids=["person", "admin"])
async def test_a_rare_words_quick_search_reads_only_its_rows(tasks: type[Task], who: User) -> None:
    """A rare word is read from the words index (its 20 rows), not by walking the sort index past
    every row one may see (what the unanchored regex did); its page is every match, newest first."""
    repo = BeanieRepository(tasks)
    with context.as_user(who):
        plans = await repo.explain(TaskService.filters(q=RARE.upper()), sort=parse_sort(None), limit=GRID_PAGE + 1)
        page = await repo.page(TaskService.filters(q="Zepp"), sort=parse_sort(None), limit=GRID_PAGE)
        every = await repo.find({"title": {"$regex": RARE, "$options": "i"}}, limit=100)
    stats = plans[0]["executionStats"]
    assert len(plans) == 1 and stats["totalKeysExamined"] <= GRID_ROWS // 1000 * 2, stats
    assert [t.id for t in page.items] == [t.id for t in sorted(every, key=lambda t: t.created_at, reverse=True)]
    assert page.items and not page.has_more


async def test_the_grids_count_stops_at_its_cap_and_says_there_are_more(tasks: type[Task]) -> None:
    """`meta=capped` (what the grid's pager asks for): past `COUNT_CAP` rows no total, `more_than`
    the cap; below it the exact count."""
    repo = BeanieRepository(tasks)
    with context.as_user(ADMIN):
        every = await repo.count()
        page = await repo.page(None, limit=GRID_PAGE, sort=parse_sort(None), count_cap=COUNT_CAP)
    assert every == GRID_ROWS * 19 // 20 > COUNT_CAP  # the live rows
    assert (page.total, page.more_than, page.has_more, len(page.items)) == (None, COUNT_CAP, True, GRID_PAGE)
    with context.as_user(PERSON):
        mine = await repo.count()
        page = await repo.page(None, limit=GRID_PAGE, sort=parse_sort(None), count_cap=mine)
        search = TaskService.filters(q="report")
        counted = await repo.count(search)
        over = await repo.page(search, limit=10, sort=parse_sort(None), count_cap=counted - 1)
        at = await repo.page(search, limit=10, sort=parse_sort(None), count_cap=counted)
    assert GRID_PAGE < mine < every and (page.total, page.more_than) == (mine, None)  # a person's rows only
    assert counted > 10 and (over.total, over.more_than) == (None, counted - 1)  # one row past the cap
    assert (at.total, at.more_than) == (counted, None)  # exactly the cap: the number itself
