"""Lists served by an index, against a real MongoDB: the indexes made from a document's declared
queries, plans without a collection scan or a sort in memory for a person and for an admin,
`has_more` from `limit + 1`, totals only when asked, projections, keyset cursors."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from webos_common import context
from webos_common.documents import (
    BaseService,
    BeanieRepository,
    CreateModel,
    ListQuery,
    OwnedDocument,
    OwnedReadModel,
    UpdateModel,
    db,
    declared_queries,
    scan_stages,
)
from webos_common.documents.queries import query_indexes
from webos_common.documents.sharing import RecordRule, row_reach
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User

ALICE = User(id="alice", roles=("crew",), permissions=("list.*",))
ADMIN = User(id="root", roles=("admin",), permissions=("list.*",))
PEOPLE = [f"p{n}" for n in range(20)]


class Job(OwnedDocument):
    webos_module = "list"
    title: str
    state: str = "open"
    due: datetime | None = None

    class Settings:
        queries = [ListQuery(), ListQuery(filter=["state"], sort=["due", "title"])]


class JobCreate(CreateModel):
    title: str


class JobRead(OwnedReadModel):
    title: str
    state: str
    due: datetime | None = None


class JobService(BaseService[Job, JobCreate, UpdateModel, JobRead]):
    module, entity = "list", "job"
    document, read_schema = Job, JobRead


def _row(owner: str, n: int, now: datetime) -> dict[str, Any]:
    """A row as the repository writes it; a few assigned to or shared with someone, some deleted."""
    row: dict[str, Any] = {
        "_id": ObjectId(), "title": f"{owner}-{n:05d}", "state": random.choice(["open", "done", "held"]),
        "due": None if n % 10 == 0 else now + timedelta(hours=n % 50), "owner_id": owner,
        "created_at": now - timedelta(seconds=n // 2), "updated_at": now, "deleted_at": None, "version": 1,
        "assignees": [], "shares": []}
    if n % 40 == 0:
        row["assignees"] = [random.choice([*PEOPLE, "alice"])]
    if n % 60 == 0:
        row["shares"] = [{"kind": random.choice(["user", "role"]), "id": random.choice(["alice", "crew", "p3"]),
                          "access": "read"}]
    if n % 25 == 0:
        row["deleted_at"] = now
    row["reach"] = row_reach(owner, row["assignees"], row["shares"])
    return row


@pytest.fixture
async def jobs(mongo_url: str, db_name: str) -> AsyncIterator[BeanieRepository[Job]]:
    """20 people with 1,000 rows each and alice with 1,500: enough for the planner to choose as it
    does in production (on a handful of rows any plan looks as good)."""
    client = db.mongo_client(mongo_url)
    await db.init_documents(client, db_name, [Job])
    now = datetime.now(UTC)
    rows = [_row(owner, n, now) for owner in PEOPLE for n in range(1000)]
    rows += [_row("alice", n, now) for n in range(1500)]
    await Job.get_pymongo_collection().insert_many(rows, ordered=False)
    yield BeanieRepository(Job)
    await client.close()


def test_a_document_without_a_declaration_serves_the_default_list() -> None:
    class Plain(OwnedDocument):
        webos_module = "list"

    assert declared_queries(Plain) == [ListQuery(sort=["-created_at"])]
    assert [i.document["name"] for i in query_indexes(Plain)] == [
        "webos_all:-created_at", "webos_reach:-created_at"]
    assert [i.document["key"] for i in query_indexes(Job)][-1] == {
        "reach": 1, "deleted_at": 1, "state": 1, "due": 1, "title": 1, "_id": 1}
    with pytest.raises(TypeError):
        ListQuery(sort="-created_at")  # type: ignore[arg-type]


@pytest.mark.parametrize("who", [ALICE, ADMIN], ids=["person", "admin"])
async def test_every_declared_query_is_served_by_an_index(jobs: BeanieRepository[Job], who: User) -> None:
    for query in declared_queries(Job):
        filter = {field: "open" for field in query.filter}
        order = [(k, v) for k, v in query.keys if k != "_id"]
        with context.as_user(who):
            # a position past the rows without the first sort key (after a null the plan may differ)
            first = await jobs.page({**filter, order[0][0]: {"$ne": None}}, sort=order, limit=20)
            plans = [*await jobs.explain(filter, sort=order),
                     *await jobs.explain(filter, sort=order, cursor=first.next_cursor)]
        assert len(plans) == 2  # one query each: her rows by their reach (own, assigned, shared), or everyone's
        for plan in plans:
            assert scan_stages(plan) == [], (query.describe(), plan["queryPlanner"]["winningPlan"])
            assert plan["executionStats"]["totalDocsExamined"] < 200, query.describe()


async def test_without_its_index_the_check_sees_the_scan(jobs: BeanieRepository[Job]) -> None:
    """The check can fail: the list of everyone's rows with its index gone reads every row; the
    person's, with theirs gone, is still answered (a missing index costs time, not the answer)."""
    await Job.get_pymongo_collection().drop_index("webos_all:-created_at")
    await Job.get_pymongo_collection().drop_index("webos_reach:-created_at")
    with context.as_user(ADMIN):
        plans = await jobs.explain(None, sort=[("created_at", -1)])
    with context.as_user(ALICE):
        page = await jobs.page(None, sort=[("created_at", -1)], limit=5)
    assert scan_stages(plans[0]) and len(page.items) == 5


async def test_a_record_rule_keeps_the_list_correct(jobs: BeanieRepository[Job]) -> None:
    ruled = BeanieRepository(Job, rules=lambda: [RecordRule(role="crew", where={"state": "held"})])
    with context.as_user(ALICE):
        page = await ruled.page(None, sort=[("created_at", -1)], limit=100)
        reach = await ruled.count()
    assert reach > await Job.get_pymongo_collection().count_documents({"owner_id": "alice", "deleted_at": None})
    assert [r.created_at for r in page.items] == sorted((r.created_at for r in page.items), reverse=True)


async def test_cursor_pages_walk_the_list_once_in_order(jobs: BeanieRepository[Job]) -> None:
    """Ties (two rows a second) and nulls (`due`) included: the pages join up to the whole list."""
    for order in ([("created_at", -1)], [("due", 1), ("title", 1)], [("due", -1)]):
        with context.as_user(ALICE):
            tiebreak = [*order, ("_id", order[-1][1])]  # one query, as MongoDB sorts it
            everything = await Job.get_pymongo_collection().find(jobs.scoped({"state": "open"}),
                                                                 sort=tiebreak).to_list(None)
            seen: list[Any] = []
            page = await jobs.page({"state": "open"}, sort=order, limit=97)
            seen += [r.id for r in page.items]
            while page.next_cursor:
                page = await jobs.page({"state": "open"}, sort=order, limit=97, cursor=page.next_cursor)
                seen += [r.id for r in page.items]
        assert len(everything) > 300 and seen == [r["_id"] for r in everything], order
        assert {r["owner_id"] for r in everything} > {"alice"}  # assigned to and shared with her too


async def test_has_more_totals_and_fields(mongo_url: str, db_name: str) -> None:
    client = db.mongo_client(mongo_url)
    await db.init_documents(client, db_name, [Job])
    service = JobService()
    try:
        with context.as_user(ALICE):
            for i in range(30):
                await service.create(JobCreate(title=f"n{i}"))
            first = await service.list(limit=10, sort=[("created_at", -1)])
            counted = await service.list(limit=10, sort=[("created_at", -1)], total=True)
            slim = await service.list(limit=10, sort=[("created_at", -1)], fields=["title"])
            rest = await service.list(limit=25, sort=[("created_at", -1)], cursor=first.next_cursor)
            with pytest.raises(ValidationFailed) as bad:
                await service.list(fields=["nope"])
        with context.as_user(ADMIN):
            estimated = await service.list(limit=5, sort=[("created_at", -1)], estimate=True)
    finally:
        await client.close()
    assert (first.has_more, first.total, counted.total, estimated.total) == (True, None, 30, 30)
    assert [c.title for c in first.items] == [f"n{i}" for i in range(29, 19, -1)]
    assert slim.items[0] == {"id": first.items[0].id, "title": "n29"}  # the sort key fetched for the cursor, not sent
    assert (len(rest.items), rest.has_more, rest.next_cursor) == (20, False, None)
    assert bad.value.details[0]["field"] == "fields"


@pytest.mark.parametrize("cursor", ["garbage!", "AAAA", "eyJ4Ijoy"])
async def test_a_cursor_that_is_not_one_is_422_naming_it(jobs: BeanieRepository[Job], cursor: str) -> None:
    with context.as_user(ALICE), pytest.raises(ValidationFailed) as bad:
        await jobs.page(None, sort=[("created_at", -1)], cursor=cursor)
    assert bad.value.details[0]["field"] == "cursor"


async def test_a_cursor_of_another_order_is_422(jobs: BeanieRepository[Job]) -> None:
    with context.as_user(ALICE):
        page = await jobs.page(None, sort=[("created_at", -1)], limit=5)
        with pytest.raises(ValidationFailed) as bad:
            await jobs.page(None, sort=[("due", 1)], cursor=page.next_cursor)
    assert bad.value.details[0]["field"] == "cursor"


async def test_an_index_already_there_under_another_name_is_kept(mongo_url: str, db_name: str) -> None:
    """A deployment made `webos_list` (the same keys) before lists were declared: the host still starts."""
    client = db.mongo_client(mongo_url)
    try:
        keys = [("reach", 1), ("deleted_at", 1), ("created_at", -1), ("_id", -1)]
        await client[db_name]["list_jobs"].create_index(keys, name="webos_list")
        await db.init_documents(client, db_name, [Job])
        names = await Job.get_pymongo_collection().index_information()
    finally:
        await client.close()
    assert "webos_list" in names and "webos_reach:-created_at" not in names
    assert "webos_reach:state:due,title" in names and len(names) == 5


async def test_rows_written_before_reach_get_it_at_start(mongo_url: str, db_name: str) -> None:
    """A deployment of the one-query-per-path lists: its rows gain `reach` (owner, assignees, shares)
    and its path indexes, which every write would still pay for, are dropped."""
    client = db.mongo_client(mongo_url)
    now = datetime.now(UTC)
    old = [{**_row(owner, 1, now), "shares": shares, "assignees": assignees}
           for owner, shares, assignees in [("alice", [], []), ("p1", [{"kind": "role", "id": "crew"}], []),
                                            ("p2", [], ["alice"]), ("p3", [{"kind": "user", "id": "alice"}], []),
                                            ("p4", [{"kind": "role", "id": "other"}], ["p5"])]]
    for row in old:
        del row["reach"]
    try:
        await client[db_name]["list_jobs"].insert_many(old)
        await client[db_name]["list_jobs"].create_index([("owner_id", 1), ("deleted_at", 1)],
                                                        name="webos_owner:-created_at")
        await db.init_documents(client, db_name, [Job])
        names = await Job.get_pymongo_collection().index_information()
        with context.as_user(ALICE):
            page = await BeanieRepository(Job).page(None, sort=[("created_at", -1)])
    finally:
        await client.close()
    assert "webos_owner:-created_at" not in names
    assert sorted(r.owner_id for r in page.items) == ["alice", "p1", "p2", "p3"]


async def test_sharing_and_assigning_change_who_lists_a_row_at_once(mongo_url: str, db_name: str) -> None:
    client = db.mongo_client(mongo_url)
    await db.init_documents(client, db_name, [Job])
    repo: BeanieRepository[Job] = BeanieRepository(Job)
    bob = User(id="bob", roles=("ops",), permissions=("list.*",))

    async def bobs() -> list[str]:
        with context.as_user(bob):
            return [r.title for r in (await repo.page(None, sort=[("created_at", -1)])).items]

    try:
        with context.as_user(ALICE):
            row = await repo.insert(Job(title="plan"))
            await repo.set_access(row.id, shares=[{"kind": "role", "id": "ops", "access": "read"}])
        shared = await bobs()
        with context.as_user(ALICE):
            await repo.set_access(row.id, shares=[])
        revoked = await bobs()
        with context.as_user(ALICE):
            await repo.set_access(row.id, assignees=["bob"])
        assigned = await bobs()
    finally:
        await client.close()
    assert (shared, revoked, assigned) == (["plan"], [], ["plan"])
