"""Layers, validation, permissions, history and rollback, and settings:changed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import nats

from webos_common.bus import EventBus
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.wire import envelope_of
from webos_common.settings.client import CHANGED_SUBJECT


async def test_bad_value_is_a_422_naming_the_field_and_changes_nothing(client: Any, admin: Any, mongo: Any) -> None:
    assert (await client.put("/system/smtp", headers=admin, json={"host": "a", "port": 25})).status_code == 200
    for body, field in (({"port": "abc"}, "port"), ({"port": 70000}, "port"), ({"prot": 25}, "prot"),
                        ({"from_address": "nobody"}, "from_address")):
        r = await client.patch("/system/smtp", headers=admin, json=body)
        assert r.status_code == 422, r.text
        assert [d["field"] for d in r.json()["error"]["details"]] == [field]
        assert field in r.json()["error"]["message"]
    r = await client.put("/system/storage", headers=admin, json={"backends": [{"name": "s3", "kind": "ftp"}]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "backends.0.kind"
    r = await client.put("/system/smtp", headers=admin, json=[1, 2])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body"
    doc = await mongo["settings_values"].find_one({"_id": "system/smtp"})
    assert doc["version"] == 1 and doc["values"] == {"host": "a", "port": 25}
    assert await mongo["settings_history"].count_documents({}) == 1
    assert await mongo["settings_values"].find_one({"_id": "system/storage"}) is None


async def test_module_schema_defaults_and_user_overrides(client: Any, admin: Any, issuer: Any,
                                                         tasks_schema: Any) -> None:
    alice = issuer.headers("alice")
    assert (await client.get("/modules/tasks", headers=alice)).status_code == 404  # no schema yet
    r = await client.put("/schemas/tasks", headers=alice, json={"schema": tasks_schema})
    assert r.status_code == 403
    bad = await client.put("/schemas/tasks", headers=admin, json={"schema": {"type": "object", "properties": 3}})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "schema"
    ok = await client.put("/schemas/tasks", headers=issuer.headers("lead", permissions=("tasks.*",)),
                          json={"schema": tasks_schema})
    assert ok.status_code == 200 and ok.json()["changed"] is True

    assert (await client.get("/modules/tasks", headers=alice)).json()["values"] == {
        "page_size": 25, "default_view": "list", "webhook_token": None}
    assert (await client.patch("/modules/tasks", headers=alice, json={"page_size": 10})).status_code == 403
    assert (await client.patch("/modules/tasks", headers=admin, json={"page_size": 50})).status_code == 200
    r = await client.patch("/me/tasks", headers=alice, json={"default_view": "kanban"})
    assert r.status_code == 200
    assert r.json()["values"] == {"page_size": 50, "default_view": "kanban", "webhook_token": None}
    assert r.json()["explicit"] == {"default_view": "kanban"}
    r = await client.patch("/me/tasks", headers=alice, json={"default_view": "board"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "default_view"
    # Core settings need no registration (seed 004's notification preferences; the shell's look).
    assert (await client.patch("/modules/notifications", headers=admin, json={"push_enabled": True})).is_success
    r = await client.patch("/me/notifications", headers=alice, json={"digest_frequency": "weekly"})
    assert r.json()["values"] == {"email_enabled": True, "push_enabled": True, "digest_frequency": "weekly"}
    r = await client.patch("/modules/shell", headers=admin, json={"brand_name": "Acme", "primary_color": "#112233"})
    assert r.json()["values"]["brand_name"] == "Acme"
    r = await client.patch("/modules/shell", headers=admin, json={"primary_color": "red"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "primary_color"
    r = await client.patch("/me/shell", headers=alice, json={"theme": "dark"})
    assert r.json()["values"] == {"theme": "dark", "language": "en", "default_view": None}  # no branding
    r = await client.patch("/me/shell", headers=alice, json={"brand_name": "Mine"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "brand_name"


async def test_users_cannot_touch_each_other(client: Any, admin: Any, issuer: Any, mongo: Any) -> None:
    alice, bob = issuer.headers("alice"), issuer.headers("bob")
    assert (await client.put("/me/shell", headers=alice, json={"theme": "dark"})).status_code == 200
    assert (await client.get("/users/alice/shell", headers=alice)).json()["values"]["theme"] == "dark"
    for method, path, body in (("GET", "/users/alice/shell", None), ("PUT", "/users/alice/shell", {"theme": "light"}),
                               ("PATCH", "/users/alice/shell", {"theme": "light"}),
                               ("GET", "/users/alice/shell/history", None),
                               ("POST", "/users/alice/shell/rollback", {"version": 1}),
                               ("GET", "/users/nobody/shell", None)):
        r = await client.request(method, path, headers=bob, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert "dark" not in r.text
    doc = await mongo["settings_users"].find_one({"_id": "alice"})
    assert doc["plugin_settings"]["shell"] == {"theme": "dark"} and doc["versions"]["shell"] == 1
    assert (await client.get("/users/alice/shell", headers=admin)).json()["values"]["theme"] == "dark"
    assert (await client.get("/system/smtp", headers=bob)).status_code == 403
    assert (await client.put("/system/smtp", headers=bob, json={"host": "evil"})).status_code == 403
    assert (await client.get("/export", headers=bob)).status_code == 403
    assert (await client.post("/admin/rotate-key", headers=bob)).status_code == 403
    assert (await client.get("/me/shell")).status_code == 401


async def test_history_and_rollback(client: Any, admin: Any) -> None:
    for host in ("one", "two", "three"):
        assert (await client.patch("/system/smtp", headers=admin, json={"host": host})).status_code == 200
    history = (await client.get("/system/smtp/history", headers=admin)).json()
    assert [i["version"] for i in history["items"]] == [3, 2, 1]
    assert history["items"][0]["changes"] == [{"key": "host", "old": "two", "new": "three"}]
    assert history["items"][0]["by"] == "root" and history["items"][0]["at"]

    r = await client.post("/system/smtp/rollback", headers=admin, json={"version": 1})
    assert r.status_code == 200
    assert r.json()["values"]["host"] == "one" and r.json()["version"] == 4
    latest = (await client.get("/system/smtp/history", headers=admin, params={"limit": 1})).json()
    assert latest["items"][0]["action"] == "rollback:1" and latest["has_more"] is True
    assert latest["items"][0]["changes"] == [{"key": "host", "old": "three", "new": "one"}]
    assert (await client.post("/system/smtp/rollback", headers=admin, json={"version": 99})).status_code == 404
    stale = await client.patch("/system/smtp", headers=admin, json={"host": "x"}, params={"expected_version": 2})
    assert stale.status_code == 409


async def test_every_change_emits_settings_changed(client: Any, admin: Any, issuer: Any, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def on_msg(msg: Any) -> None:
        await got.put(envelope_of(msg.headers, msg.data).model_dump(mode="json"))

    await nc.subscribe(CHANGED_SUBJECT, cb=on_msg)
    await nc.flush()
    try:
        await client.patch("/system/smtp", headers=admin, json={"host": "mail"})
        await client.patch("/me/shell", headers=issuer.headers("alice"), json={"theme": "dark", "language": "de"})
        await client.patch("/me/shell", headers=issuer.headers("alice"), json={"theme": "dark"})  # no change
        first = await asyncio.wait_for(got.get(), timeout=5)
        second = await asyncio.wait_for(got.get(), timeout=5)
    finally:
        await nc.close()
    assert first["topic"] == "settings:changed" and first["user_id"] == "root"
    assert first["payload"] == {"layer": "system", "module": "smtp", "key": "host", "keys": ["host"],
                                "user": None, "version": 1, "schema_changed": False}
    assert second["payload"]["layer"] == "user" and second["payload"]["user"] == "alice"
    assert second["payload"]["keys"] == ["language", "theme"] and second["payload"]["key"] is None
    assert got.empty()


async def test_bus_handlers_get_settings_changed(client: Any, admin: Any, nats_url: str) -> None:
    """Another service handles the event through the bus (a durable consumer)."""
    nc = await nats.connect(nats_url)
    bus = EventBus(nc, service=f"listener{uuid.uuid4().hex[:6]}")
    seen: asyncio.Queue[EventEnvelope] = asyncio.Queue()
    bus.subscribe("settings:changed", seen.put)
    await bus.start()
    try:
        marker = f"host-{uuid.uuid4().hex[:6]}"
        assert (await client.patch("/system/smtp", headers=admin, json={"host": marker})).status_code == 200
        while True:
            event = await asyncio.wait_for(seen.get(), timeout=10)
            if event.payload.get("layer") == "system" and event.user_id == "root":
                break
        assert event.source == "settings" and event.payload["keys"] == ["host"]
    finally:
        await bus.close()
        await nc.close()


async def test_concurrent_writes_never_500_nor_lose_history(client: Any, admin: Any, mongo: Any) -> None:
    answers = await asyncio.gather(*(client.patch("/system/smtp", headers=admin, json={f"k{i}": 1})
                                     for i in range(3)),  # unknown keys: 422s mixed in
                                   *(client.patch("/system/smtp", headers=admin, json={"port": 1000 + i})
                                     for i in range(12)))
    codes = [r.status_code for r in answers]
    assert codes == [422] * 3 + [200] * 12  # lost races are redone, not surfaced
    doc = await mongo["settings_values"].find_one({"_id": "system/smtp"})
    assert doc["version"] == await mongo["settings_history"].count_documents({"scope": "system/smtp"})
    assert doc["version"] == 12
    racing = [client.patch("/system/smtp", headers=admin, json={"host": f"h{i}"},
                           params={"expected_version": doc["version"]}) for i in range(6)]
    codes = [r.status_code for r in await asyncio.gather(*racing)]
    assert sorted(codes) == [200] + [409] * 5  # with an expected version exactly one wins


async def test_two_replicas_racing_both_land(open_app: Any, admin: Any, mongo: Any) -> None:
    async with open_app() as one, open_app() as two:
        racing = [(one if i % 2 else two).patch("/system/smtp", headers=admin, json={"port": 2000 + i})
                  for i in range(8)]
        codes = [r.status_code for r in await asyncio.gather(*racing)]
    assert codes == [200] * 8  # a write conflict between replicas is redone
    doc = await mongo["settings_values"].find_one({"_id": "system/smtp"})
    assert doc["version"] == 8 == await mongo["settings_history"].count_documents({"scope": "system/smtp"})


async def test_an_api_key_does_no_more_than_its_scopes(client: Any, issuer: Any) -> None:
    """A key scoped to another area neither reads nor patches settings; `settings.read` only reads."""
    tasks_only = issuer.headers("kim", roles=(), permissions=("tasks.read",))
    reader = issuer.headers("kim", roles=(), permissions=("settings.read",))
    person = issuer.headers("kim")
    assert (await client.patch("/me/shell", json={"theme": "dark"}, headers=person)).status_code == 200
    for headers in (tasks_only, reader):
        patched = await client.patch("/me/shell", json={"theme": "light"}, headers=headers)
        assert patched.status_code == 403
        assert patched.json()["error"]["details"]["permission"] == "settings.write"
    assert (await client.get("/me/shell", headers=tasks_only)).status_code == 403
    read = await client.get("/me/shell", headers=reader)
    assert read.status_code == 200 and read.json()["values"]["theme"] == "dark"
