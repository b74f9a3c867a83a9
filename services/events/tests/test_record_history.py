"""A record's audit trail: its own events and bulk updates naming it, for whoever may read it."""

from __future__ import annotations

import uuid

from webos_common import context
from webos_common.identity import User


async def emit_as(bus, user_id: str, topic: str, payload: dict):
    with context.use({"user": User(id=user_id).model_dump(mode="json"), "trace_id": context.new_trace_id()}):
        return await bus.emit(topic, payload)


async def test_history_lists_the_records_events_for_those_who_may_read_it(
        client, admin, alice, bob, other_service, eventually) -> None:
    bus = other_service(f"notes{uuid.uuid4().hex[:6]}")
    rid, other = uuid.uuid4().hex[:24], uuid.uuid4().hex[:24]
    snap = {"id": rid, "owner_id": "alice", "shares": [], "assignees": [], "title": "a"}
    await emit_as(bus, "alice", "note:created", {**snap, "version": 1})
    await emit_as(bus, "alice", "note:updated", {**snap, "title": "b", "version": 2, "changed": ["title"]})
    await emit_as(bus, "alice", "note:bulk_updated", {"ids": [rid, other], "changed": ["title"], "modified": 2})
    await emit_as(bus, "alice", "note:created", {**snap, "id": other})
    await emit_as(bus, "alice", "note:hidden", {**snap})  # not a record action
    await emit_as(bus, "alice", "note:archived", {"id": rid, "owner_id": "alice", "version": 3, "state": "x"})

    async def logged():
        page = (await client.get(f"/events/records/{rid}", headers=alice)).json()
        return page if page.get("total") == 4 else None

    page = await eventually(logged)  # a workflow step naming the record's id and version is in its trail
    assert [e["topic"] for e in page["items"]] == ["note:archived", "note:bulk_updated", "note:updated",
                                                   "note:created"]
    assert (await client.get(f"/events/records/{rid}", headers=bob)).status_code == 404
    assert (await client.get(f"/events/records/{rid}", headers=admin)).json()["total"] == 4
    await emit_as(bus, "alice", "note:access_changed", {**snap, "shares": [{"kind": "user", "id": "bob"}]})

    async def shared():
        answer = await client.get(f"/events/records/{rid}", headers=bob)
        return answer.json() if answer.status_code == 200 else None

    assert (await eventually(shared))["total"] == 5
    assert (await client.get(f"/events/records/{uuid.uuid4().hex}", headers=admin)).status_code == 404
