"""Routing: core services by prefix, modules live from the registry, the shell for the rest."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from webos_common.modules.manifest import ModuleManifest

Rig = Any  # the `rig` fixture (conftest.py)


async def _poll(client: httpx.AsyncClient, url: str, want: int, *, deadline: float = 5.0,
                **kwargs: object) -> httpx.Response:
    """GET until the status is `want` (the deadline only bounds a failing test)."""
    give_up = time.monotonic() + deadline
    while True:
        resp = await client.get(url, **kwargs)  # type: ignore[arg-type]
        if resp.status_code == want or time.monotonic() > give_up:
            return resp
        await asyncio.sleep(0.05)


async def test_module_routed_live_then_503_when_heartbeat_stops(rig: Rig) -> None:
    headers = rig.issuer.headers("alice")
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        before = await client.get("/api/notes/list")
        assert before.status_code == 404
        assert before.json()["error"]["details"]["module"] == "notes"

        host = await rig.start_module("notes")
        resp = await _poll(client, "/api/notes/list?x=1", 200)
        assert resp.status_code == 200, resp.text
        assert resp.json()["path"] == "/api/notes/list"  # forwarded unchanged
        assert resp.json()["query"] == "x=1"

        host.stop_heartbeat()  # the host still serves, but its registry entry lapses (TTL 1.5 s)
        gone = await _poll(client, "/api/notes/list", 503)
        assert gone.status_code == 503
        assert gone.json()["error"]["code"] == "module_unavailable"
        assert gone.json()["error"]["details"]["module"] == "notes"
        assert "notes" in gone.json()["error"]["message"]


async def test_killed_module_answers_503_naming_it(rig: Rig) -> None:
    headers = rig.issuer.headers("alice")
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        host = await rig.start_module("crm")
        assert (await _poll(client, "/api/crm/x", 200)).status_code == 200
        await host.kill()
        resp = await _poll(client, "/api/crm/x", 503)
        assert resp.status_code == 503
        assert resp.json()["error"]["details"]["module"] == "crm"
        assert resp.headers["retry-after"] == "5"  # an outage: the client may come back


async def test_a_modules_own_503_reaches_the_client_with_retry_after(rig: Rig) -> None:
    """Modules come from many teams: whatever 503 one answers, the edge says when to come back."""
    async with httpx.AsyncClient(base_url=rig.url, headers=rig.issuer.headers("alice")) as client:
        await rig.start_module("ledger")
        assert (await _poll(client, "/api/ledger/x", 200)).status_code == 200
        resp = await client.get("/api/ledger/bare-503")
        assert resp.status_code == 503
        assert resp.json()["error"]["code"] == "unavailable"
        assert resp.headers.get("retry-after") == "5", (resp.headers, resp.text)


async def test_disabled_module_is_503_and_comes_back_when_enabled(rig: Rig) -> None:
    headers = rig.issuer.headers("alice")
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        await rig.start_module("wiki")
        assert (await _poll(client, "/api/wiki/a", 200)).status_code == 200
        await rig.registry.set_enabled("wiki", False)
        resp = await _poll(client, "/api/wiki/a", 503)
        assert resp.json()["error"] == {"code": "module_disabled", "message": "Module wiki is disabled",
                                        "details": {"module": "wiki"}}
        await rig.registry.set_enabled("wiki", True)
        assert (await _poll(client, "/api/wiki/a", 200)).status_code == 200


async def test_instances_of_a_module_are_balanced(rig: Rig) -> None:
    headers = rig.issuer.headers("alice")
    first = await rig.start_module("tasks")
    second = await rig.start_module("tasks")
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        await _poll(client, "/api/tasks/x", 200)
        seen: set[str] = set()
        for _ in range(40):
            seen.add((await client.get("/api/tasks/x")).json()["label"])
            if len(seen) == 2:
                break
    assert seen == {first.manifest.instance_id, second.manifest.instance_id}


async def test_one_dead_instance_is_skipped(rig: Rig) -> None:
    headers = rig.issuer.headers("alice")
    alive = await rig.start_module("inv")
    dead = await rig.start_module("inv")
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        await _poll(client, "/api/inv/x", 200)
        await dead.stopper.aclose()  # killed without withdrawing: the entry is still live
        labels = {(await client.get("/api/inv/x")).json()["label"] for _ in range(6)}
    assert labels == {alive.manifest.instance_id}


async def test_core_prefix_is_stripped_and_shell_gets_the_rest(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url, headers=rig.issuer.headers("alice")) as client:
        core = await client.post("/api/storage/files/a%20b?x=1", content=b"hello")
        assert core.status_code == 200
        assert core.json()["raw_path"] == "/files/a%20b"
        assert core.json()["query"] == "x=1"
        assert core.json()["body_len"] == 5
        root = await client.get("/api/settings")
        assert root.json()["path"] == "/"
    async with httpx.AsyncClient(base_url=rig.url) as anonymous:
        shell = await anonymous.get("/m/tasks/board")  # the shell handles its own sessions
        assert shell.status_code == 200
        assert shell.json()["path"] == "/m/tasks/board"
        assert "authorization" not in shell.json()["headers"]
        seen = shell.json()["headers"]
        assert seen["host"] == rig.url.removeprefix("http://")  # the client's Host, for URLs the shell builds
        assert seen["x-forwarded-host"] == seen["host"]
        assert seen["x-forwarded-proto"] == "http"
        assert seen["x-forwarded-for"] == "127.0.0.1"


async def test_unhealthy_instance_leaves_routing_and_comes_back(rig: Rig) -> None:
    headers = rig.issuer.headers("alice")
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        host = await rig.start_module("mail")
        assert (await _poll(client, "/api/mail/x", 200)).status_code == 200
        host.app.state.healthy = False  # its /readyz now answers 503
        resp = await _poll(client, "/api/mail/x", 503)
        assert resp.json()["error"]["details"] == {"module": "mail", "reason": "no healthy instance"}
        assert resp.headers["retry-after"] == "5"
        host.app.state.healthy = True
        assert (await _poll(client, "/api/mail/x", 200)).status_code == 200


async def test_a_module_back_is_served_at_once_not_at_the_next_health_round(rig: Rig) -> None:
    """Every instance left out by the last round: the next request probes again instead of
    answering 503 until the next round (a module that became ready just after it)."""
    headers = rig.issuer.headers("alice")
    gw = rig.app.state.gateway
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        host = await rig.start_module("post")
        assert (await _poll(client, "/api/post/x", 200)).status_code == 200
        assert gw.health is not None
        gw.health.interval = 3600.0  # no further rounds of their own: only requests probe again
        await gw.health.stop()
        host.app.state.healthy = False
        await gw.health.check_all()
        assert not gw.table.candidates("post")
        refused = await client.get("/api/post/x")
        assert refused.status_code == 503 and refused.json()["error"]["details"]["reason"] == "no healthy instance"
        host.app.state.healthy = True
        await asyncio.sleep(gw.health.RECHECK_EVERY)
        assert (await client.get("/api/post/x")).status_code == 200


async def test_heartbeats_are_not_changes(rig: Rig) -> None:
    """The merged OpenAPI cache keys on the table's version: a heartbeat (the
    same manifest again) must not move it; a real change must."""
    table = rig.app.state.gateway.table
    host = await rig.start_module("notes")
    host.stop_heartbeat()
    for _ in range(100):
        if table.instances.get("notes"):
            break
        await asyncio.sleep(0.05)
    settled = table.version
    for _ in range(3):
        await rig.registry.announce(host.manifest)
    await rig.registry.set_enabled("notes", True)  # already enabled: no change either
    marker = await rig.start_module("marker")  # the watch is ordered: once seen, so is all above
    marker.stop_heartbeat()
    for _ in range(100):
        if table.instances.get("marker"):
            break
        await asyncio.sleep(0.05)
    assert table.version == settled + 1
    await rig.registry.set_enabled("notes", False)
    for _ in range(100):
        if not table.is_enabled("notes"):
            break
        await asyncio.sleep(0.05)
    assert table.version == settled + 2


async def test_an_instance_dying_mid_request_fails_no_read(rig: Rig) -> None:
    """An instance that takes a request and closes the connection without answering (killed
    mid-request): a read goes to the next instance; a write is answered 502, never replayed."""
    headers = rig.issuer.headers("alice")
    alive = await rig.start_module("ledger")

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b"/readyz" in head.split(b"\r\n", 1)[0]:  # healthy to the gateway's checks
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            await writer.drain()
        writer.close()

    dying = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = dying.sockets[0].getsockname()[1]
    try:
        await rig.registry.announce(alive.manifest.model_copy(
            update={"instance_id": "dying", "base_url": f"http://127.0.0.1:{port}"}))
        table = rig.app.state.gateway.table
        for _ in range(100):
            if len(table.instances.get("ledger", {})) == 2:
                break
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
            reads = [(await client.get("/api/ledger/x")).status_code for _ in range(6)]
            write = await client.post("/api/ledger/x", json={})
        assert reads == [200] * 6
        assert write.status_code in (200, 502)  # 502 when the write went to the dying one
    finally:
        dying.close()


async def test_a_module_dying_mid_answer_is_a_502_not_a_500(rig: Rig) -> None:
    """The host sends its head and part of a small body, then dies (kill -9 mid-answer): nothing
    went out to the client yet, so the gateway still answers in the platform's shape."""

    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b"/readyz" in head.split(b"\r\n", 1)[0]:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{\"id\"")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(half_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    manifest = ModuleManifest(name="halfway", instance_id="h1", base_url=f"http://127.0.0.1:{port}")
    await rig.registry.announce(manifest)
    try:
        async with httpx.AsyncClient(base_url=rig.url, headers=rig.issuer.headers("alice")) as client:
            resp = await _poll(client, "/api/halfway/x", 502)
        assert resp.status_code == 502, resp.text
        assert resp.json()["error"]["code"] == "bad_gateway"
    finally:
        server.close()
