"""Live push over a real WebSocket: a user's notifications and task progress."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from webos_common import context
from webos_common.identity import User
from webos_common.tasks import progress, task
from webos_common.tasks.worker import running_worker
from webos_common.testing import serve_app


@task
async def build_report(parts: int) -> str:
    for i in range(1, parts + 1):
        await progress(100 * i / parts, f"part {i}")
    return "report.pdf"


async def next_of(ws, kind: str, timeout: float) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == kind:
            return message


async def test_a_notification_reaches_only_its_users_socket_within_a_second(app, issuer, admin) -> None:
    async with serve_app(app) as base:
        ws_url = base.replace("http", "ws") + "/ws"
        bob_cookie = {"Cookie": f"access_token={issuer.token('bob')}"}
        async with websockets.connect(f"{ws_url}?token={issuer.token('alice')}") as alice_ws, \
                websockets.connect(ws_url, additional_headers=bob_cookie) as bob_ws:
            assert (await next_of(alice_ws, "hello", 5))["data"] == {"user_id": "alice"}
            assert (await next_of(bob_ws, "hello", 5))["data"] == {"user_id": "bob"}
            async with httpx.AsyncClient(base_url=base) as http:
                sent = await http.post("/notifications", headers=admin,
                                       json={"user_id": "alice", "title": "Build finished", "link": "/builds/9"})
            assert sent.status_code == 201
            pushed = await next_of(alice_ws, "notification:created", timeout=1.0)
            assert pushed["data"]["title"] == "Build finished" and pushed["data"]["id"] == sent.json()["id"]
            with pytest.raises(TimeoutError):
                await next_of(bob_ws, "notification:created", timeout=0.3)


async def test_a_socket_without_a_valid_token_is_refused(app) -> None:
    async with serve_app(app) as base:
        ws_url = base.replace("http", "ws") + "/ws"
        for url in (ws_url, f"{ws_url}?token=not-a-jwt"):
            with pytest.raises((InvalidStatus, websockets.ConnectionClosed)):
                async with websockets.connect(url) as ws:
                    await ws.recv()


async def test_task_progress_is_pushed_in_order_then_the_final_status(app, issuer, nats_url) -> None:
    async with running_worker(nats_url), serve_app(app) as base:
        ws_url = base.replace("http", "ws") + f"/ws?token={issuer.token('alice')}"
        async with websockets.connect(ws_url) as ws:
            await next_of(ws, "hello", 5)
            with context.as_user(User(id="alice")):
                handle = await build_report.kiq(3)
            seen: list[dict] = []
            while not (seen and seen[-1]["type"] == "task:status" and seen[-1]["data"]["state"] == "succeeded"):
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message["type"].startswith("task:") and message["data"]["task_id"] == handle.task_id:
                    seen.append(message)
    steps = [(m["data"]["percent"], m["data"]["message"]) for m in seen if m["type"] == "task:progress"]
    assert steps == [(100 / 3, "part 1"), (200 / 3, "part 2"), (100.0, "part 3")]
    states = [m["data"]["state"] for m in seen if m["type"] == "task:status"]
    assert states == ["queued", "running", "succeeded"]
