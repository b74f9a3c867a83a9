"""Quick search on the words of a document's searchable fields (`documents.search`), against a
real MongoDB: the words every write path keeps, what a search matches (the start of a word, any
case and accent, every word typed), the backfill of older rows, and the plans that serve it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from webos_common import context
from webos_common.documents import SEARCH_FIELD, BeanieRepository, OwnedDocument, db, scan_stages, search_filter
from webos_common.documents.queries import query_indexes
from webos_common.documents.search import backfill, row_words, words
from webos_common.documents.sharing import row_reach
from webos_common.identity import User

ALICE = User(id="alice", roles=("crew",), permissions=("find.*",))
ADMIN = User(id="root", roles=("admin",), permissions=("*",))
PEOPLE = [f"p{n}" for n in range(20)]
COMMON = "report budget invoice meeting review draft plan release customer order".split()


class Note(OwnedDocument):
    webos_module = "find"
    title: str
    body: str = ""
    state: str = "open"

    class Settings:
        search = ["title", "body"]


@pytest.fixture
async def notes(mongo_url: str, db_name: str) -> AsyncIterator[BeanieRepository[Note]]:
    client = db.mongo_client(mongo_url)
    await db.init_documents(client, db_name, [Note])
    yield BeanieRepository(Note)
    await client.close()


async def stored(repo: BeanieRepository[Note], id: Any) -> list[str]:
    row = await repo.collection.find_one({"_id": ObjectId(str(id))})
    return list(row[SEARCH_FIELD])


def test_words_are_lower_case_without_accents_split_on_what_is_not_a_letter() -> None:
    assert words("Café au-lait, CAFE! Ñandú_2 Straße ﬁle") == ["cafe", "au", "lait", "nandu_2", "strasse", "file"]
    assert words("  ...  ") == []
    assert row_words({"title": "Write Report", "body": None}, ["title", "body"]) == ["write", "report"]


def test_a_searchable_document_gets_an_index_on_its_words() -> None:
    assert {"search_words": 1, "deleted_at": 1} in [dict(i.document["key"]) for i in query_indexes(Note)]
    assert {i.document["name"] for i in query_indexes(Note)} >= {"webos_search:title,body"}


async def test_every_write_keeps_the_words(notes: BeanieRepository[Note]) -> None:
    """Insert, insert_many, update, update_from, update_many (with and without versions): a change
    of one searchable field keeps the other's words; a change of none leaves them."""
    with context.as_user(ALICE):
        one = await notes.insert(Note(title="Write the Report", body="for Zoë"))
        two, three = await notes.insert_many([Note(title="Plan the launch"), Note(title="Book travel")])
        assert await stored(notes, one.id) == ["write", "the", "report", "for", "zoe"]
        assert await stored(notes, two.id) == ["plan", "the", "launch"]
        await notes.update(one.id, {"title": "Send the invoice"})
        assert await stored(notes, one.id) == ["send", "the", "invoice", "for", "zoe"]
        await notes.update(one.id, {"state": "done"})
        assert await stored(notes, one.id) == ["send", "the", "invoice", "for", "zoe"]
        before, after = await notes.update_from(one.id, {"body": "Ask Émile"})
        assert await stored(notes, one.id) == ["send", "the", "invoice", "ask", "emile"]
        assert (before.body, after.body) == ("for Zoë", "Ask Émile")
        await notes.update_from(one.id, {"title": "Pay it", "body": ""})
        assert await stored(notes, one.id) == ["pay", "it"]
        assert await notes.update_many([two.id, three.id], {"title": "Bulk title"}) == 2
        assert await stored(notes, two.id) == await stored(notes, three.id) == ["bulk", "title"]
        at = {str(two.id): 2, str(three.id): 2}
        assert await notes.update_many([two.id, three.id], {"body": "more words"}, versions=at) == 2
        assert await stored(notes, two.id) == ["bulk", "title", "more", "words"]
        await notes.update(two.id, {SEARCH_FIELD: ["forged"]})  # not a field one writes
        assert await stored(notes, two.id) == ["bulk", "title", "more", "words"]


async def titles(repo: BeanieRepository[Note], q: str) -> list[str]:
    page = await repo.page(search_filter(q), sort=[("created_at", 1)], limit=50)
    return [n.title for n in page.items]


async def test_a_search_finds_the_start_of_a_word_in_any_case_and_accent(notes: BeanieRepository[Note]) -> None:
    """Each word typed must start some word of the title or body; a text inside a word is no match
    (the chosen behaviour: what a search box means, and what an index serves)."""
    with context.as_user(ALICE):
        for title in ("Write the Report", "Réunion budget", "Café order", "Reporting tool", "report-card"):
            await notes.insert(Note(title=title))
        await notes.insert(Note(title="quarterly", body="the REPORT again"))
        assert await titles(notes, "rep") == ["Write the Report", "Reporting tool", "report-card", "quarterly"]
        assert await titles(notes, "REUNION") == await titles(notes, "réu") == ["Réunion budget"]
        assert await titles(notes, "cafe ORD") == ["Café order"]
        assert await titles(notes, "report write") == ["Write the Report"]  # every word, in any order
        assert await titles(notes, "report missing") == []
        assert await titles(notes, "port") == []  # inside a word: no match
        assert await titles(notes, "card") == ["report-card"]  # a word after a hyphen
        assert await titles(notes, ".*") == await titles(notes, "...") == []  # not a regex; no word: nothing
    with context.as_user(User(id="bob", permissions=("find.*",))):
        assert await titles(notes, "rep") == []  # a person's own rows only


async def test_rows_written_before_the_words_get_them(notes: BeanieRepository[Note]) -> None:
    """The backfill (a module's migration runs it) writes the words of rows without them, in batches."""
    rows = [{"_id": ObjectId(), "title": f"Old Task {n}", "body": "Ünïcode", "owner_id": "alice",
             "deleted_at": None, "reach": ["u:alice"]} for n in range(25)]
    await notes.collection.insert_many(rows)
    assert await backfill(notes.collection, ["title", "body"], batch=10) == 25
    assert await backfill(notes.collection, ["title", "body"], batch=10) == 0  # once
    assert await stored(notes, rows[3]["_id"]) == ["old", "task", "3", "unicode"]
    with context.as_user(ALICE):
        assert len(await titles(notes, "old unic")) == 25


def _row(owner: str, n: int, now: datetime, rnd: random.Random) -> dict[str, Any]:
    title = " ".join(rnd.sample(COMMON, 3)) + (" zeppelin" if n % 500 == 7 else "")
    return {"_id": ObjectId(), "title": title, "body": "", "state": "open", "owner_id": owner,
            "created_at": now - timedelta(seconds=n), "updated_at": now, "version": 1,
            "deleted_at": now if n % 25 == 0 else None, "assignees": [], "shares": [],
            "reach": row_reach(owner, [], []), SEARCH_FIELD: words(title)}


@pytest.mark.parametrize("who", [ALICE, ADMIN], ids=["person", "admin"])
async def test_a_rare_word_is_read_from_the_words_index_and_a_common_one_from_the_sort(
        notes: BeanieRepository[Note], who: User) -> None:
    """On 21,000 rows the planner reads a rare word's few rows from the words index and sorts them
    (what the scan check allows), a common word's page by walking the sort index, and a word no row
    has from the words index (nothing to read)."""
    rnd, now = random.Random(7), datetime.now(UTC)
    rows = [_row(owner, n, now, rnd) for owner in [*PEOPLE, "alice"] for n in range(1000)]
    await notes.collection.insert_many(rows, ordered=False)
    with context.as_user(who):
        for q, lead in (("zepp", SEARCH_FIELD), ("nosuchword", SEARCH_FIELD), ("report", None)):
            plans = await notes.explain(search_filter(q), sort=[("created_at", -1)], limit=26)
            assert len(plans) == 1 and scan_stages(plans[0]) == [], (q, plans[0]["queryPlanner"]["winningPlan"])
            used = _index_leads(plans[0]["queryPlanner"]["winningPlan"])
            assert (used == [SEARCH_FIELD]) == (lead == SEARCH_FIELD), (q, used)
        found = await notes.page(search_filter("Zeppelin"), sort=[("created_at", -1)], limit=100)
    expected = [r for r in rows if "zeppelin" in r["title"] and r["deleted_at"] is None
                and (who is ADMIN or r["owner_id"] == "alice")]
    newest = sorted(expected, key=lambda r: (r["created_at"], r["_id"]), reverse=True)
    assert [str(n.id) for n in found.items] == [str(r["_id"]) for r in newest] and newest


def _index_leads(stage: dict[str, Any]) -> list[str]:
    stage = stage.get("queryPlan", stage)
    leads = [next(iter(stage["keyPattern"]))] if stage.get("stage") == "IXSCAN" else []
    for child in [stage.get("inputStage"), *stage.get("inputStages", [])]:
        if child:
            leads += _index_leads(child)
    return leads


def test_the_scan_check_still_sees_any_other_sort_in_memory() -> None:
    words_sort = {"stage": "SORT", "inputStage": {"stage": "FETCH", "inputStage": {
        "stage": "IXSCAN", "keyPattern": {SEARCH_FIELD: 1, "deleted_at": 1}}}}
    other_sort = {"stage": "SORT", "inputStage": {"stage": "FETCH", "inputStage": {
        "stage": "IXSCAN", "keyPattern": {"reach": 1, "deleted_at": 1}}}}
    scan_sort = {"stage": "SORT", "inputStage": {"stage": "COLLSCAN"}}
    assert scan_stages({"queryPlanner": {"winningPlan": words_sort}}) == []
    assert scan_stages({"queryPlanner": {"winningPlan": other_sort}}) == ["SORT"]
    assert scan_stages({"queryPlanner": {"winningPlan": scan_sort}}) == ["SORT", "COLLSCAN"]
