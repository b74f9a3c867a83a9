"""The tasks module through its HTTP API on a real module host (MongoDB + NATS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

API = "/api/tasks/tasks"


async def make(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    resp = await client.post(API, json={"title": "t", **fields}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_crud_filters_and_sort(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    due = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    a = await make(client, alice, title="Write report", priority="high", tags=["work"], due_date=due)
    await make(client, alice, title="Buy milk", tags=["home"])
    assert a["owner_id"] == "alice" and a["status"] == "todo" and a["created_by"] == "alice"
    got = (await client.get(f"{API}/{a['id']}", headers=alice)).json()
    assert got["title"] == "Write report" and got["tags"] == ["work"]
    page = (await client.get(API, params={"tag": "home"}, headers=alice)).json()
    assert [t["title"] for t in page["items"]] == ["Buy milk"]
    assert {"items", "total", "skip", "limit", "has_more"} <= page.keys()
    page = (await client.get(API, params={"sort": "title"}, headers=alice)).json()
    assert [t["title"] for t in page["items"]] == ["Buy milk", "Write report"]
    page = (await client.get(API, params={"q": "REPORT"}, headers=alice)).json()
    assert page["total"] == 1
    resp = await client.patch(f"{API}/{a['id']}", json={"title": "Write the report"}, headers=alice)
    assert resp.status_code == 200 and resp.json()["title"] == "Write the report"
    assert resp.json()["priority"] == "high"


async def test_requires_sign_in(client: httpx.AsyncClient) -> None:
    resp = await client.get(API)
    assert resp.status_code == 401


async def test_board_move_and_stats(client: httpx.AsyncClient, alice: dict[str, str], app: Any) -> None:
    one, two, _ = [await make(client, alice, title=f"t{i}") for i in range(3)]
    resp = await client.post(f"{API}/{one['id']}/move", json={"status": "in_progress"}, headers=alice)
    assert resp.status_code == 200 and resp.json()["status"] == "in_progress"
    resp = await client.post(f"{API}/{two['id']}/move", json={"status": "done"}, headers=alice)
    assert resp.json()["completed_at"] is not None
    board = (await client.get(f"{API}/board", headers=alice)).json()
    assert [len(board[k]) for k in ("todo", "in_progress", "done")] == [1, 1, 1]
    stats = (await client.get(f"{API}/stats", headers=alice)).json()
    assert stats == {"todo": 1, "in_progress": 1, "done": 1, "total": 3, "overdue": 0}
    outbox = app.state.resources.db["tasks_outbox"]
    topics = [row["envelope"]["topic"] async for row in outbox.find({}, sort=[("created_at", 1)])]
    assert topics.count("task:created") == 3
    assert topics.count("task:moved") == 2 and topics.count("task:completed") == 1
    completed = await outbox.find_one({"envelope.topic": "task:completed"})
    assert completed["envelope"]["payload"]["from_status"] == "todo"
    assert completed["envelope"]["payload"]["to_status"] == "done"


async def test_bulk_status(client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]) -> None:
    mine = [await make(client, alice) for _ in range(3)]
    theirs = await make(client, bob)
    ids = [t["id"] for t in mine] + [theirs["id"]]
    resp = await client.post(f"{API}/bulk/status", json={"ids": ids, "status": "done"}, headers=alice)
    assert resp.json() == {"modified": 3}
    assert (await client.get(f"{API}/{theirs['id']}", headers=bob)).json()["status"] == "todo"


async def test_bulk_update_of_any_field(client: httpx.AsyncClient, alice: dict[str, str],
                                        bob: dict[str, str]) -> None:
    mine = [await make(client, alice, tags=["old"]) for _ in range(2)]
    theirs = await make(client, bob)
    ids = [t["id"] for t in mine] + [theirs["id"]]
    resp = await client.patch(f"{API}/bulk", json={"ids": ids, "changes": {"tags": ["finance", "q3"],
                                                                            "priority": "high"}}, headers=alice)
    assert resp.json() == {"modified": 2}
    for task in mine:
        got = (await client.get(f"{API}/{task['id']}", headers=alice)).json()
        assert (got["tags"], got["priority"]) == (["finance", "q3"], "high")
    assert (await client.get(f"{API}/{theirs['id']}", headers=bob)).json()["tags"] == []
    dated = [await make(client, alice, due_date="2031-01-02T09:00:00Z", tags=["x"]) for _ in range(2)]
    cleared = {"due_date": None, "tags": []}  # an optional field left empty (the shell's "Clear this field")
    resp = await client.patch(f"{API}/bulk", json={"ids": [t["id"] for t in dated], "changes": cleared},
                              headers=alice)
    assert resp.json() == {"modified": 2}
    for task in dated:
        got = (await client.get(f"{API}/{task['id']}", headers=alice)).json()
        assert (got["due_date"], got["tags"]) == (None, [])
    for changes, field in (({}, "changes"), ({"tags": [""]}, "changes.tags.0"), ({"title": None}, "changes.title"),
                           ({"assignees": ["bob"]}, "changes.assignees"), ({"status": "done"}, "changes.status")):
        resp = await client.patch(f"{API}/bulk", json={"ids": ids, "changes": changes}, headers=alice)
        assert resp.status_code == 422, (changes, resp.text)
        assert field in [d["field"] for d in resp.json()["error"]["details"]], (changes, resp.text)


async def test_other_users_task_is_404_everywhere(client: httpx.AsyncClient, alice: dict[str, str],
                                                 bob: dict[str, str], admin: dict[str, str]) -> None:
    task = await make(client, alice, title="secret")
    url = f"{API}/{task['id']}"
    attempts = [
        client.get(url, headers=bob),
        client.patch(url, json={"title": "pwned"}, headers=bob),
        client.post(f"{url}/move", json={"status": "done"}, headers=bob),
        client.delete(url, headers=bob),
        client.post(f"{url}/restore", headers=bob),
    ]
    for attempt in attempts:
        resp = await attempt
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["code"] == "not_found"
    assert (await client.get(API, headers=bob)).json()["total"] == 0
    assert (await client.get(f"{API}/board", headers=bob)).json()["todo"] == []
    assert (await client.get(f"{API}/stats", headers=bob)).json()["total"] == 0
    assert (await client.get(API, params={"q": "secret"}, headers=bob)).json()["total"] == 0
    assert (await client.get(url, headers=alice)).json()["title"] == "secret"
    # an admin sees and changes anyone's task
    assert (await client.get(url, headers=admin)).status_code == 200
    resp = await client.post(f"{url}/move", json={"status": "in_progress"}, headers=admin)
    assert resp.status_code == 200 and resp.json()["owner_id"] == "alice"
    assert (await client.get(f"{API}/stats", headers=admin)).json()["in_progress"] >= 1
    assert (await client.get("/api/tasks/admin/stats", headers=admin)).status_code == 200
    assert (await client.get("/api/tasks/admin/stats", headers=bob)).status_code == 403


async def test_trash_and_restore(client: httpx.AsyncClient, alice: dict[str, str], admin: dict[str, str]) -> None:
    keep, gone = await make(client, alice, title="keep"), await make(client, alice, title="gone")
    assert (await client.delete(f"{API}/{gone['id']}", headers=alice)).status_code == 200
    listed = (await client.get(API, headers=alice)).json()
    assert [t["title"] for t in listed["items"]] == ["keep"]
    assert (await client.get(f"{API}/{gone['id']}", headers=alice)).status_code == 404
    assert (await client.get(f"{API}/stats", headers=alice)).json()["total"] == 1
    trash = (await client.get(f"{API}/trash", headers=alice)).json()
    assert [t["title"] for t in trash["items"]] == ["gone"]
    assert (await client.post(f"{API}/{gone['id']}/restore", headers=alice)).status_code == 200
    listed = (await client.get(API, headers=alice)).json()
    assert sorted(t["title"] for t in listed["items"]) == ["gone", "keep"]
    # purge is for admins only, and is final
    assert (await client.delete(f"{API}/{keep['id']}/purge", headers=alice)).status_code == 403
    assert (await client.delete(f"{API}/{keep['id']}/purge", headers=admin)).status_code == 204
    assert (await client.get(f"{API}/{keep['id']}", headers=admin)).status_code == 404


async def test_bad_bodies_are_422_naming_the_field(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    task = await make(client, alice)
    cases = [
        ("post", API, {}, "title"),
        ("post", API, {"title": "   "}, "title"),
        ("post", API, {"title": "x", "status": "someday"}, "status"),
        ("post", API, {"title": "x", "priority": "meh"}, "priority"),
        ("post", API, {"title": "x", "due_date": "tomorrow-ish"}, "due_date"),
        ("post", API, {"title": "x", "tags": "notalist"}, "tags"),
        ("post", API, {"title": "x", "owner_id": "bob"}, "owner_id"),
        ("patch", f"{API}/{task['id']}", {"priority": 5}, "priority"),
        ("patch", f"{API}/{task['id']}", {"status": "done"}, "status"),
        ("post", f"{API}/{task['id']}/move", {"status": "later"}, "status"),
        ("post", f"{API}/bulk/status", {"ids": [], "status": "done"}, "ids"),
        ("post", f"{API}/bulk/status", {"ids": [task["id"]]}, "status"),
        *[("patch", f"{API}/{task['id']}", {name: None}, name) for name in ("title", "description", "tags",
                                                                          "priority")],
    ]
    for method, url, body, field in cases:
        resp = await client.request(method, url, json=body, headers=alice)
        assert resp.status_code == 422, (body, resp.text)
        fields = [d["field"] for d in resp.json()["error"]["details"]]
        assert field in fields, (body, fields)
    resp = await client.get(API, params={"sort": "password"}, headers=alice)
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "sort"
    resp = await client.get(API, params={"status": "nope"}, headers=alice)
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "status"
    for params, field in (({"skip": 2**64}, "skip"), ({"limit": 2**64}, "limit"), ({"q": "a\x00"}, "q")):
        for url in (API, f"{API}/trash"):
            resp = await client.get(url, params=params, headers=alice)
            assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == field, resp.text
    page = (await client.get(API, headers=alice)).json()
    assert page["total"] == 1 and page["items"][0]["title"] == "t"  # nothing partial was written


JOB = "module.tasks.notify_due_tomorrow"  # its id on the one scheduler (`webos_common.processes.schedule`)


async def test_due_tomorrow_reminder_once(client: httpx.AsyncClient, alice: dict[str, str], app: Any) -> None:
    from webos_common.processes.schedule import Scheduler

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    await make(client, alice, title="due", due_date=tomorrow.isoformat())
    await make(client, alice, title="later", due_date=(tomorrow + timedelta(days=5)).isoformat())
    done = await make(client, alice, title="done already", due_date=tomorrow.isoformat())
    await client.post(f"{API}/{done['id']}/move", json={"status": "done"}, headers=alice)
    scheduler = app.state.services.get(Scheduler)
    await scheduler.times.forget(JOB)  # the session's bucket outlives a test: start unseen
    eight = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)

    assert await scheduler.run_due() == []  # first sight: scheduled for the next 08:00
    assert await scheduler.run_due(eight + timedelta(days=1, seconds=1)) == ["notify_due_tomorrow"]
    assert await scheduler.run_due(eight + timedelta(days=1, seconds=2)) == []  # claimed: due again the next 08:00
    outbox = app.state.resources.db["tasks_outbox"]
    notes = [row["envelope"] async for row in outbox.find({"envelope.topic": "notification:send"})]
    assert len(notes) == 1
    assert notes[0]["payload"]["user_id"] == "alice" and "'due'" in notes[0]["payload"]["message"]
    assert await scheduler.run_due(eight + timedelta(days=2, seconds=1)) == ["notify_due_tomorrow"]
    assert await outbox.count_documents({"envelope.topic": "notification:send"}) == 1


async def test_widget(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    await make(client, alice, title="soon", due_date=(datetime.now(UTC) + timedelta(hours=5)).isoformat())
    body = (await client.get("/api/tasks/widget", headers=alice)).json()
    assert body["open"] == 1 and body["items"][0]["title"] == "soon"


async def test_events_reach_the_bus_through_the_outbox(client: httpx.AsyncClient, alice: dict[str, str],
                                                       app: Any) -> None:
    import asyncio

    from webos_common.bus.envelope import EventEnvelope

    seen: asyncio.Queue[EventEnvelope] = asyncio.Queue()

    async def on_completed(event: EventEnvelope) -> None:
        await seen.put(event)

    bus = app.state.resources.bus
    bus.subscribe("task:completed", on_completed, name=f"test-{id(app)}")
    await bus.wait_ready()
    task = await make(client, alice, title="ship it")
    await client.post(f"{API}/{task['id']}/move", json={"status": "done"}, headers=alice)
    event = await asyncio.wait_for(seen.get(), timeout=30)
    assert event.topic == "task:completed" and event.payload["id"] == task["id"]
    assert event.user_id == "alice" and event.source == "tasks"


async def test_reminders_and_widget_follow_the_module_settings(client: httpx.AsyncClient, alice: dict[str, str],
                                                               app: Any) -> None:
    """The host reads the module's settings over NATS (a stand-in answers for the settings service)."""
    import json

    from webos_common.processes.schedule import Scheduler
    from webos_common.settings.client import MODULE_SUBJECT, ModuleSettings

    nc = app.state.resources.nats

    async def answer(msg: Any) -> None:
        await msg.respond(json.dumps({"values": {"remind_due_tomorrow": False, "widget_limit": 1,
                                                 "widget_show_done": True}, "version": 4}).encode())

    sub = await nc.subscribe(f"{MODULE_SUBJECT}.tasks", cb=answer)
    try:
        config = app.state.services.get(ModuleSettings)
        assert await config.refresh() and config.get().widget_limit == 1
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
        for title in ("first", "second"):
            await make(client, alice, title=title, due_date=tomorrow.isoformat())
        scheduler = app.state.services.get(Scheduler)
        await scheduler.times.forget(JOB)
        await scheduler.run_due()
        assert await scheduler.run_due(datetime.now(UTC) + timedelta(days=1, seconds=1)) == ["notify_due_tomorrow"]
        outbox = app.state.resources.db["tasks_outbox"]
        assert await outbox.count_documents({"envelope.topic": "notification:send"}) == 0  # reminders are off
        body = (await client.get("/api/tasks/widget", headers=alice)).json()
        assert [item["title"] for item in body["items"]] == ["first"]  # widget_limit 1
    finally:
        await sub.unsubscribe()


async def test_an_attachment_is_a_file_address(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    made = await client.post("/api/tasks/tasks", json={"title": "read", "attachment": "fs://local/home/a/brief.pdf"},
                             headers=alice)
    assert made.status_code == 201 and made.json()["attachment"] == "fs://local/home/a/brief.pdf"
    bad = await client.post("/api/tasks/tasks", json={"title": "x", "attachment": "http://evil/x"}, headers=alice)
    assert bad.status_code == 422 and "attachment" in bad.text
    assert (await client.get("/api/tasks/tasks", params={"q": "x"}, headers=alice)).json()["total"] == 0


async def test_the_grids_capped_count_is_the_count_below_its_cap(client: httpx.AsyncClient,
                                                                 alice: dict[str, str]) -> None:
    """`meta=capped` (what the shell's grid asks for): below the cap the exact count, no `more_than`;
    past it see tests/integration/test_list_indexes.py (20,000 rows)."""
    for n in range(3):
        await make(client, alice, title=f"capped {n}")
    page = (await client.get(API, params={"q": "capped", "limit": 2, "meta": "capped"}, headers=alice)).json()
    assert (page["total"], page["more_than"], page["has_more"], len(page["items"])) == (3, None, True, 2)
    after = (await client.get(API, params={"q": "capped", "limit": 2, "meta": "capped",
                                           "cursor": page["next_cursor"]}, headers=alice)).json()
    assert ([t["title"] for t in after["items"]], after["total"]) == (["capped 0"], 3)


async def test_quick_search_finds_the_start_of_a_title_word_after_each_write(client: httpx.AsyncClient,
                                                                             alice: dict[str, str]) -> None:
    """`q` (the grid's search box, the palette): each word typed starts a word of the title, in any
    case and accent; every word must match; text inside a word does not (the chosen behaviour: what
    an index serves, `webos_common.documents.search`). Created, edited and bulk-edited titles alike."""
    def found(q: str) -> Any:
        return client.get(API, params={"q": q, "sort": "title"}, headers=alice)

    made = [await make(client, alice, title=t) for t in ("Réunion budget", "Write the REPORT", "Café order")]
    assert [t["title"] for t in (await found("reu")).json()["items"]] == ["Réunion budget"]
    assert [t["title"] for t in (await found("report WRI")).json()["items"]] == ["Write the REPORT"]
    assert (await found("port")).json()["total"] == 0  # inside a word
    assert (await found("report budget")).json()["total"] == 0  # every word must match
    await client.patch(f"{API}/{made[1]['id']}", json={"title": "Send the invoice"}, headers=alice)
    assert (await found("report")).json()["total"] == 0
    assert [t["title"] for t in (await found("INVOICE")).json()["items"]] == ["Send the invoice"]
    resp = await client.patch(f"{API}/bulk", json={"ids": [made[0]["id"], made[2]["id"]],
                                                   "changes": {"title": "Über planning"}}, headers=alice)
    assert resp.json() == {"modified": 2}
    assert (await found("uber plan")).json()["total"] == 2 and (await found("cafe")).json()["total"] == 0
