"""Writes through the tasks module's HTTP API under contention: retried
transactions, conditional requests (RFC 9110), idempotent creates, lists."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from bson import ObjectId

API = "/api/tasks/tasks"


async def make(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> httpx.Response:
    resp = await client.post(API, json={"title": "t", **fields}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp


async def test_bursts_of_moves_on_one_task_answer_no_5xx_and_the_events_agree(
        client: httpx.AsyncClient, alice: dict[str, str], app: Any) -> None:
    task = (await make(client, alice)).json()
    statuses = ["todo", "in_progress", "done"]
    answers = []
    for burst in range(3):
        answers += await asyncio.gather(*(
            client.post(f"{API}/{task['id']}/move", json={"status": statuses[(burst + i) % 3]}, headers=alice)
            for i in range(10)))
    codes = [r.status_code for r in answers]
    assert [c for c in codes if c >= 500] == [] and codes.count(200) == 30, codes
    final = (await client.get(f"{API}/{task['id']}", headers=alice)).json()
    assert final["version"] == 1 + 30
    outbox = app.state.resources.db["tasks_outbox"]
    moved = [row["envelope"]["payload"] async for row in outbox.find({"envelope.topic": "task:moved"})]
    assert len(moved) == 30 and sorted(m["version"] for m in moved) == list(range(2, 32))
    # each move read its from_status inside its transaction: the chain of moves is unbroken
    by_version = {m["version"]: m for m in moved}
    assert all(by_version[v]["from_status"] == by_version[v - 1]["to_status"] for v in range(3, 32))


async def test_etag_if_none_match_and_if_match(client: httpx.AsyncClient, alice: dict[str, str], app: Any) -> None:
    created = await make(client, alice, title="v1")
    url = f"{API}/{created.json()['id']}"
    assert created.headers["etag"] == '"1"'
    got = await client.get(url, headers=alice)
    assert got.headers["etag"] == '"1"'
    unchanged = await client.get(url, headers={**alice, "If-None-Match": '"1"'})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == '"1"'
    saved = await client.patch(url, json={"title": "v2"}, headers={**alice, "If-Match": '"1"'})
    assert saved.status_code == 200 and saved.headers["etag"] == '"2"'
    stale = await client.patch(url, json={"title": "lost"}, headers={**alice, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["etag"] == '"2"'
    details = stale.json()["error"]["details"]
    assert details["version"] == 2 and details["updated_by"] == "alice"
    for attempt in (client.post(f"{url}/move", json={"status": "done"}, headers={**alice, "If-Match": '"1"'}),
                    client.delete(url, headers={**alice, "If-Match": '"1"'}),
                    client.patch(url, json={"title": "x"}, headers={**alice, "If-Match": "W/\"2\""})):
        assert (await attempt).status_code == 412
    changed = await client.get(url, headers={**alice, "If-None-Match": '"1"'})
    assert changed.status_code == 200 and changed.json()["title"] == "v2"
    outbox = app.state.resources.db["tasks_outbox"]
    assert await outbox.count_documents({"envelope.topic": "task:updated"}) == 1


async def test_bulk_status_with_versions(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    tasks = [(await make(client, alice)).json() for _ in range(2)]
    versions = {t["id"]: t["version"] for t in tasks}
    await client.patch(f"{API}/{tasks[0]['id']}", json={"title": "moved on"}, headers=alice)
    body = {"ids": list(versions), "status": "done", "versions": versions}
    stale = await client.post(f"{API}/bulk/status", json=body, headers=alice)
    assert stale.status_code == 412 and [s["id"] for s in stale.json()["error"]["details"]["stale"]] == [tasks[0]["id"]]
    for t in tasks:
        assert (await client.get(f"{API}/{t['id']}", headers=alice)).json()["status"] == "todo"


async def test_idempotency_key_replays_refuses_another_body_and_is_per_person(
        client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]) -> None:
    key = {"Idempotency-Key": "create-42"}
    first = await client.post(API, json={"title": "once"}, headers={**alice, **key})
    again = await client.post(API, json={"title": "once"}, headers={**alice, **key})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    other = await client.post(API, json={"title": "other"}, headers={**alice, **key})
    assert other.status_code == 422 and other.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    bobs = await client.post(API, json={"title": "once"}, headers={**bob, **key})
    assert bobs.status_code == 201 and bobs.json()["id"] != first.json()["id"]
    page = (await client.get(API, params={"q": "once", "meta": "total"}, headers=alice)).json()
    assert page["total"] == 1
    empty = await client.post(API, json={"title": "x"}, headers={**alice, "Idempotency-Key": ""})
    assert empty.status_code == 422 and "Idempotency-Key" in empty.text


async def test_list_has_more_meta_total_and_fields(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    for i in range(3):
        await make(client, alice, title=f"n{i}")
    page = (await client.get(API, params={"limit": 2}, headers=alice)).json()
    assert page["has_more"] is True and page["total"] is None and len(page["items"]) == 2
    page = (await client.get(API, params={"limit": 2, "meta": "total", "fields": "title,status"},
                             headers=alice)).json()
    assert page["total"] == 3 and page["items"][0].keys() == {"id", "title", "status"}
    bad = await client.get(API, params={"fields": "title,password"}, headers=alice)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "fields"
    bad = await client.get(API, params={"meta": "everything"}, headers=alice)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "meta"


async def test_cursor_pages_an_estimate_and_a_bad_cursor(client: httpx.AsyncClient, alice: dict[str, str],
                                                         admin: dict[str, str]) -> None:
    """Pages joined by `next_cursor` are the list once, in order; a cursor that is not one, or one
    given with `skip`, is a 422 naming it; `meta=estimate` counts from the collection's metadata."""
    for i in range(7):
        await make(client, alice, title=f"c{i}")
    params: dict[str, Any] = {"limit": 3, "fields": "title"}
    seen, page = [], (await client.get(API, params=params, headers=alice)).json()
    seen += [t["title"] for t in page["items"]]
    while page["next_cursor"]:
        resp = await client.get(API, params={**params, "cursor": page["next_cursor"]}, headers=alice)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        seen += [t["title"] for t in page["items"]]
    assert seen == [f"c{i}" for i in range(6, -1, -1)] and page["has_more"] is False
    first = (await client.get(API, params={"limit": 3}, headers=alice)).json()
    resp = await client.get(API, params={"limit": 3, "sort": "title", "cursor": first["next_cursor"]}, headers=alice)
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "cursor"
    for bad in ("not-a-cursor", "AAAA"):
        resp = await client.get(API, params={"cursor": bad}, headers=alice)
        assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "cursor", resp.text
    resp = await client.get(API, params={"cursor": first["next_cursor"], "skip": 3}, headers=alice)
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "skip"
    estimated = (await client.get(API, params={"limit": 1, "meta": "estimate"}, headers=admin)).json()
    assert estimated["total"] >= 7 and estimated["has_more"] is True


async def test_the_hand_made_indexes_are_dropped_and_the_declared_ones_made(client: httpx.AsyncClient,
                                                                           app: Any) -> None:
    """An install from before declared lists: the migration drops what served nothing but cost writes."""
    from importlib import import_module

    items = app.state.resources.db["tasks_items"]
    await items.create_index([("owner_id", 1), ("status", 1)])
    await items.create_index([("shares.id", 1)])
    await import_module("webos_tasks.migrations.0002_declared_list_indexes").up(app.state.resources.db)
    await import_module("webos_tasks.migrations.0002_declared_list_indexes").up(app.state.resources.db)  # twice: ok
    names = set(await items.index_information())
    assert not names & {"owner_id_1_status_1", "shares.id_1", "owner_id_1"}
    assert {"webos_reach:-created_at", "webos_reach:status:-priority,due_date", "webos_all:due_date"} <= names


async def test_tasks_written_before_quick_search_get_their_title_words(client: httpx.AsyncClient, app: Any,
                                                                       alice: dict[str, str]) -> None:
    """An install from before `search_words`: the migration writes the words of every task's title,
    so quick search finds them; running it again is harmless."""
    from importlib import import_module

    items = app.state.resources.db["tasks_items"]
    old = [{"_id": ObjectId(), "title": f"Écrire le rapport {n}", "owner_id": "alice", "reach": ["u:alice"],
            "deleted_at": None, "status": "todo", "priority": "medium", "tags": []} for n in range(1500)]
    await items.insert_many(old)
    assert (await client.get(API, params={"q": "rapport"}, headers=alice)).json()["total"] == 0
    migration = import_module("webos_tasks.migrations.0003_search_words")
    await migration.up(app.state.resources.db)
    await migration.up(app.state.resources.db)
    assert (await items.find_one({"_id": old[7]["_id"]}))["search_words"] == ["ecrire", "le", "rapport", "7"]
    page = (await client.get(API, params={"q": "ECRI rap", "meta": "total"}, headers=alice)).json()
    assert page["total"] == 1500
