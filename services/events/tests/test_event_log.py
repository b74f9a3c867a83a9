"""The event log: every event stored; admins see all, users their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from webos_common import context
from webos_common.identity import User


async def emit_as(bus, user_id: str, topic: str, payload: dict, trace: str | None = None):
    snapshot = {"user": User(id=user_id).model_dump(mode="json"), "trace_id": trace or context.new_trace_id()}
    with context.use(snapshot):
        return await bus.emit(topic, payload)


async def test_events_are_logged_and_filtered_and_users_see_only_their_own(
        client, app, admin, alice, other_service, eventually) -> None:
    entity = f"inv{uuid.uuid4().hex[:8]}"
    bus = other_service(f"shop{uuid.uuid4().hex[:6]}")
    trace = context.new_trace_id()
    mine = [await emit_as(bus, "alice", f"{entity}:created", {"n": i}, trace) for i in range(3)]
    theirs = await emit_as(bus, "bob", f"{entity}:deleted", {"n": 9})

    async def all_logged():
        page = (await client.get("/events", params={"source": bus.service}, headers=admin)).json()
        return page if page["total"] == 4 else None

    page = await eventually(all_logged)
    assert page["limit"] == 5
    assert {e["id"] for e in page["items"]} == {e.id for e in [*mine, theirs]}

    as_alice = (await client.get("/events", params={"source": bus.service}, headers=alice)).json()
    assert {e["id"] for e in as_alice["items"]} == {e.id for e in mine}
    assert (await client.get("/events", params={"user_id": "bob"}, headers=alice)).status_code == 403
    assert (await client.get(f"/events/{theirs.id}", headers=alice)).status_code == 404
    assert (await client.get(f"/events/{theirs.id}", headers=admin)).json()["payload"] == {"n": 9}

    by_topic = (await client.get("/events", params={"topic": f"{entity}:deleted"}, headers=admin)).json()
    assert [e["id"] for e in by_topic["items"]] == [theirs.id]
    by_trace = (await client.get("/events", params={"trace_id": trace}, headers=admin)).json()
    assert by_trace["total"] == 3 and all(e["trace_id"] == trace for e in by_trace["items"])
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    later = (await client.get("/events", params={"source": bus.service, "since": future}, headers=admin)).json()
    assert later["total"] == 0


async def test_pages_are_capped(client, admin, other_service, eventually) -> None:
    bus = other_service(f"bulk{uuid.uuid4().hex[:6]}")
    for i in range(7):
        await bus.emit(f"b{bus.service}:made", {"i": i})

    async def logged():
        return (await client.get("/events", params={"source": bus.service, "limit": 1000},
                                 headers=admin)).json()

    page = await eventually(lambda: _when_total(logged, 7))
    assert page["limit"] == 5 and len(page["items"]) == 5 and page["has_more"] is True
    rest = (await client.get("/events", params={"source": bus.service, "skip": 5}, headers=admin)).json()
    assert len(rest["items"]) == 2 and rest["has_more"] is False
    bad = await client.get("/events", params={"limit": 0}, headers=admin)
    assert bad.status_code == 422 and "limit" in bad.text
    assert (await client.get("/events")).status_code == 401


async def _when_total(fetch, total: int):
    page = await fetch()
    return page if page["total"] == total else None


async def test_the_log_ttl_follows_the_setting_and_restart_is_idempotent(app, settings, issuer) -> None:
    from webos_common.testing import lifespan_client
    from webos_events.main import create_app

    async with lifespan_client(app):
        pass
    again = create_app(settings.model_copy(update={"events_log_ttl": 3600}))
    again.state.resources.verifier = issuer.verifier()
    async with lifespan_client(again) as client:
        ready = await client.get("/readyz")
        indexes = await again.state.resources.db["events_log"].index_information()
    assert ready.status_code == 200
    assert indexes["timestamp_ttl"]["expireAfterSeconds"] == 3600
