"""Notifications: sent by API or bus, each user sees and marks only their own."""

from __future__ import annotations

import uuid

from webos_common import context
from webos_common.identity import User


async def send(client, admin, user_id: str, title: str = "Task due", **extra) -> dict:
    body = {"user_id": user_id, "type": "task_reminder", "title": title, "message": "Review PR", **extra}
    response = await client.post("/notifications", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_user_lists_counts_and_marks_only_their_own(client, admin, alice, bob) -> None:
    first = await send(client, admin, "alice", link="/tasks/1", metadata={"task_id": "t1"}, level="warning")
    await send(client, admin, "alice", title="Second")
    await send(client, admin, "bob", title="Bob's")

    mine = (await client.get("/notifications", headers=alice)).json()
    assert [n["title"] for n in mine["items"]] == ["Second", "Task due"]  # newest first
    assert mine["total"] == 2 and mine["has_more"] is False
    assert mine["items"][1]["metadata"] == {"task_id": "t1"} and mine["items"][1]["level"] == "warning"
    assert (await client.get("/notifications/unread-count", headers=alice)).json() == {"unread": 2}

    # bob can neither list, read nor mark alice's
    assert [n["title"] for n in (await client.get("/notifications", headers=bob)).json()["items"]] == ["Bob's"]
    assert (await client.get(f"/notifications/{first['id']}", headers=bob)).status_code == 404
    assert (await client.post(f"/notifications/{first['id']}/read", headers=bob)).status_code == 404
    await client.post("/notifications/read-all", headers=bob)
    assert (await client.get("/notifications/unread-count", headers=alice)).json() == {"unread": 2}

    read = await client.post(f"/notifications/{first['id']}/read", headers=alice)
    assert read.status_code == 200 and read.json()["read"] is True and read.json()["read_at"]
    assert (await client.get("/notifications/unread-count", headers=alice)).json() == {"unread": 1}
    unread = (await client.get("/notifications", params={"unread": "true"}, headers=alice)).json()
    assert [n["title"] for n in unread["items"]] == ["Second"]
    assert (await client.post("/notifications/read-all", headers=alice)).json() == {"unread": 0}


async def test_sending_needs_the_permission_and_bad_input_names_the_field(client, alice, issuer, app) -> None:
    body = {"user_id": "alice", "title": "Hi"}
    assert (await client.post("/notifications", json=body, headers=alice)).status_code == 403
    assert (await client.post("/notifications", json=body)).status_code == 401
    sender = issuer.headers("svc", permissions=("notifications.send",))
    bad = await client.post("/notifications", json={"user_id": "alice", "level": "loud"}, headers=sender)
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert {"title", "level"} <= {f.split(".")[-1] for f in fields}
    assert await app.state.resources.db["events_notifications"].count_documents({}) == 0
    assert (await client.post("/notifications", json=body, headers=sender)).status_code == 201


async def test_notify_through_the_bus(client, alice, other_service, eventually) -> None:
    bus = other_service(f"crm{uuid.uuid4().hex[:6]}")
    await bus.start()
    with context.as_user(User(id="crm-bot")):
        await bus.emit("notification:send", {"user_id": "alice", "title": "Deal won", "level": "success"})

    async def arrived():
        items = (await client.get("/notifications", headers=alice)).json()["items"]
        return [n for n in items if n["title"] == "Deal won"]

    [note] = await eventually(arrived)
    assert note["level"] == "success" and note["read"] is False


async def test_notifications_have_the_seed_indexes_with_a_30_day_ttl(client, app) -> None:
    indexes = await app.state.resources.db["events_notifications"].index_information()
    keys = {tuple(ix["key"]): ix for ix in indexes.values()}
    assert (("user_id", 1), ("created_at", -1)) in keys
    assert (("user_id", 1), ("read", 1)) in keys
    assert keys[(("created_at", 1),)]["expireAfterSeconds"] == 30 * 86400


async def test_an_api_key_does_no_more_than_its_scopes(client, issuer) -> None:
    """A key scoped to another area neither lists nor marks notifications; `events.read` only lists."""
    tasks_only = issuer.headers("alice", roles=(), permissions=("tasks.read",))
    reader = issuer.headers("alice", roles=(), permissions=("events.read",))
    for headers in (tasks_only, reader):
        marked = await client.post("/notifications/read-all", headers=headers)
        assert marked.status_code == 403
        assert marked.json()["error"]["details"]["permission"] == "events.write"
    assert (await client.get("/notifications", headers=tasks_only)).status_code == 403
    assert (await client.get("/notifications", headers=reader)).status_code == 200
