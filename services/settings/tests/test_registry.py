"""Module schemas arrive from manifests in the module registry."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import nats

from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry
from webos_settings.manifests import follow_registry


def _manifest(name: str, schema: dict[str, Any]) -> ModuleManifest:
    return ModuleManifest(name=name, instance_id=uuid.uuid4().hex[:8], base_url="http://127.0.0.1:1",
                          settings_schema=schema)


async def test_manifest_schemas_are_registered(client: Any, issuer: Any, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    registry = ModuleRegistry(nc.jetstream(), bucket=f"reg_{uuid.uuid4().hex[:8]}")
    alice = issuer.headers("alice")
    await registry.announce(_manifest("notes", {"type": "object", "properties": {
        "font": {"type": "string", "default": "serif"}}}))
    task = asyncio.create_task(follow_registry(client.app.state.settings_service, registry))
    try:
        deadline = time.monotonic() + 10
        while (r := await client.get("/modules/notes", headers=alice)).status_code == 404:
            assert time.monotonic() < deadline, "the manifest's schema was never registered"
            await asyncio.sleep(0.05)
        assert r.json()["values"] == {"font": "serif"}
        await registry.announce(_manifest("broken", {"type": "string"}))  # refused, logged, not fatal
        kv = await registry.open()  # a module writing its key with another module's schema in it
        await kv.put("manifest.intruder.i1", _manifest("notes", {"type": "object", "properties": {
            "font": {"type": "string", "default": "comic"}}}).model_dump_json().encode())
        await registry.announce(_manifest("wiki", {"type": "object", "properties": {}}))
        while (await client.get("/schemas/wiki", headers=alice)).status_code == 404:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert (await client.get("/schemas/broken", headers=alice)).status_code == 404
        assert (await client.get("/schemas/notes", headers=alice)).json()["source"] == "manifest"
        assert (await client.get("/modules/notes", headers=alice)).json()["values"] == {"font": "serif"}
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await nc.close()


async def test_a_schema_change_reaches_the_other_replica(open_app: Any, admin: Any, issuer: Any,
                                                        tasks_schema: Any) -> None:
    alice = issuer.headers("alice")
    async with open_app() as first, open_app() as second:
        first.app.state.settings_service.schema_ttl = 3600  # only the event can refresh it
        assert (await first.get("/modules/tasks", headers=alice)).status_code == 404  # cached: no schema
        assert (await second.put("/schemas/tasks", headers=admin, json={"schema": tasks_schema})).status_code == 200
        deadline = time.monotonic() + 10
        while (r := await first.get("/modules/tasks", headers=alice)).status_code == 404:
            assert time.monotonic() < deadline, "the other replica kept its stale schema"
            await asyncio.sleep(0.02)
        assert r.json()["values"]["page_size"] == 25
        changed = {**tasks_schema, "properties": {**tasks_schema["properties"],
                                                  "page_size": {"type": "integer", "default": 10}}}
        assert (await second.put("/schemas/tasks", headers=admin, json={"schema": changed})).status_code == 200
        while (await first.get("/modules/tasks", headers=alice)).json()["values"]["page_size"] != 10:
            assert time.monotonic() < deadline, "the other replica kept its stale schema"
            await asyncio.sleep(0.02)


async def test_only_an_admin_switches_a_module_and_the_registry_follows(client: Any, issuer: Any, admin: Any,
                                                                        nats_url: str) -> None:
    """The module switch is an admin's HTTP request; this service alone writes `enabled.*` on NATS."""
    name = f"mod{uuid.uuid4().hex[:6]}"
    nc = await nats.connect(nats_url)
    registry = ModuleRegistry(nc.jetstream())
    try:
        refused = await client.put(f"/modules/{name}/enabled", headers=issuer.headers("alice"), json={"enabled": False})
        assert refused.status_code == 403 and "settings.admin" in refused.text
        assert name not in await registry.enabled_flags()
        bad = await client.put("/modules/Not A Module/enabled", headers=admin, json={"enabled": False})
        assert bad.status_code == 422
        missing = await client.put(f"/modules/{name}/enabled", headers=admin, json={})
        assert missing.status_code == 422 and "enabled" in missing.text
        off = await client.put(f"/modules/{name}/enabled", headers=admin, json={"enabled": False})
        assert off.status_code == 200 and off.json() == {"module": name, "enabled": False}
        assert (await registry.enabled_flags())[name] is False
        assert (await client.put(f"/modules/{name}/enabled", headers=admin, json={"enabled": True})).status_code == 200
        assert (await registry.enabled_flags())[name] is True
    finally:
        await (await nc.jetstream().key_value("webos_modules")).purge(f"enabled.{name}")
        await nc.close()


async def test_a_schema_not_saved_during_an_outage_is_saved_later(client: Any, issuer: Any, nats_url: str) -> None:
    """A manifest seen while MongoDB was away: its schema is tried again, not skipped for good
    (heartbeats are no changes, so nothing else would bring it back)."""
    from webos_common.http.errors import Unavailable
    from webos_settings.manifests import SchemaFollower

    nc = await nats.connect(nats_url)
    registry = ModuleRegistry(nc.jetstream(), bucket=f"reg_{uuid.uuid4().hex[:8]}")
    service = client.app.state.settings_service
    try:
        await registry.announce(_manifest("later", {"type": "object", "properties": {
            "size": {"type": "integer", "default": 3}}}))
        follower = SchemaFollower(service, registry)
        follower.view.listeners.clear()  # the test calls `sync` itself, one at a time
        await follower.view.load()
        real, attempts = service.save_schema, []

        async def away_once(*args: Any, **kwargs: Any) -> Any:
            attempts.append(1)
            if len(attempts) == 1:
                raise Unavailable("MongoDB is away")
            return await real(*args, **kwargs)

        service.save_schema = away_once
        await follower.sync()
        assert "later" not in follower.seen
        assert (await client.get("/modules/later", headers=issuer.headers("alice"))).status_code == 404
        await follower.sync()
        assert len(attempts) == 2 and "later" in follower.seen
        assert (await client.get("/modules/later", headers=issuer.headers("alice"))).json()["values"] == {"size": 3}
    finally:
        await nc.close()
