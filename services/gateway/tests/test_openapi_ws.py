"""The merged OpenAPI document follows the registry; WebSockets go through."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import websockets

Rig = Any  # the `rig` fixture (conftest.py)


async def _paths(client: httpx.AsyncClient) -> dict[str, Any]:
    resp = await client.get("/api/openapi.json")
    assert resp.status_code == 200
    return dict(resp.json()["paths"])


async def test_merged_openapi_lists_live_modules_and_drops_them(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        paths = await _paths(client)
        assert "/api/auth/items/{item_id}" in paths  # core paths under their gateway prefix
        assert not any(p.startswith("/api/catalog") for p in paths)

        host = await rig.start_module("catalog")
        give_up = time.monotonic() + 5
        while "/api/catalog/items/{item_id}" not in paths and time.monotonic() < give_up:
            await asyncio.sleep(0.05)
            paths = await _paths(client)
        op = paths["/api/catalog/items/{item_id}"]["get"]
        assert op["tags"] == ["catalog"]
        assert op["operationId"].startswith("catalog.")
        doc = (await client.get("/api/openapi.json")).json()
        assert doc["x-webos-sources"]["catalog"] == "ok"
        for ref in _refs(doc):
            name = ref.rsplit("/", 1)[1]
            assert name in doc["components"]["schemas"], ref

        await host.kill()
        give_up = time.monotonic() + 5
        while "/api/catalog/items/{item_id}" in paths and time.monotonic() < give_up:
            await asyncio.sleep(0.1)
            paths = await _paths(client)
        assert not any(p.startswith("/api/catalog") for p in paths)

        docs = await client.get("/api/docs")
        assert docs.status_code == 200 and "/api/openapi.json" in docs.text
        assert "cdn." not in docs.text and "/api/docs/assets/swagger-ui-bundle.js" in docs.text  # works offline
        script = await client.get("/api/docs/assets/swagger-ui-bundle.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert "SwaggerUIBundle" in script.text
        assert (await client.get("/api/docs/assets/swagger-ui.css")).status_code == 200
        assert (await client.get("/api/docs/assets/..%2Fpyproject.toml")).status_code == 404
        assert (await client.get("/api/docs/assets/index.html")).status_code == 404


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_websocket_round_trip_to_a_core_service_and_a_module(rig: Rig) -> None:
    ws_url = rig.url.replace("http", "ws")
    headers = rig.issuer.headers("alice")
    async with websockets.connect(f"{ws_url}/api/events/ws", additional_headers=headers) as ws:
        await ws.send("hello")
        assert await ws.recv() == "alice:hello"
        await ws.send("again")
        assert await ws.recv() == "alice:again"

    await rig.start_module("chat")
    async with httpx.AsyncClient(base_url=rig.url, headers=headers) as client:
        for _ in range(100):
            if (await client.get("/api/chat/x")).status_code == 200:
                break
            await asyncio.sleep(0.05)
    async with websockets.connect(f"{ws_url}/api/chat/ws",
                                  additional_headers={"Cookie": f"access_token={rig.issuer.token('bob')}"}) as ws:
        await ws.send("hi")
        assert await ws.recv() == "bob:hi"

    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(f"{ws_url}/api/events/ws"):
            pass
