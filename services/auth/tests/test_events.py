"""user:created / updated / deleted / logged_in reach the real bus."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from webos_auth.testing import admin_headers, login, register
from webos_common.bus import EventBus
from webos_common.bus.connection import connect_nats
from webos_common.bus.envelope import EventEnvelope


async def test_user_lifecycle_events_are_published(client: httpx.AsyncClient, nats_url: str) -> None:
    nc = await connect_nats(nats_url, name="auth-events-test")
    seen: list[EventEnvelope] = []
    name = f"ev{uuid.uuid4().hex[:8]}"

    async def record(event: EventEnvelope) -> None:
        if event.payload.get("username") == name:
            seen.append(event)

    bus = EventBus(nc, service=f"watcher{uuid.uuid4().hex[:6]}")
    bus.subscribe("user:*", record)
    await bus.start()
    try:
        user = await register(client, name)
        await login(client, name)
        admin = await admin_headers(client)
        await client.patch(f"/users/{user['id']}", headers=admin, json={"verified": True})
        await client.delete(f"/users/{user['id']}", headers=admin)
        wanted = ["user:created", "user:logged_in", "user:updated", "user:deleted"]
        for _ in range(250):
            if len(seen) >= len(wanted):
                break
            await asyncio.sleep(0.02)
    finally:
        await bus.close()
        await nc.drain()
    assert sorted(e.topic for e in seen) == sorted(wanted)
    created = next(e for e in seen if e.topic == "user:created")
    assert created.payload["id"] == user["id"] and "password_hash" not in created.payload
    assert next(e for e in seen if e.topic == "user:logged_in").payload["method"] == "password"
