"""Live push over a real WebSocket: a user's notifications and task progress."""

from __future__ import annotations

import asyncio
import contextlib
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


async def changes(ws, until: str, timeout: float = 10.0) -> list[str]:
    """The modules of the `module:changed` messages on `ws`, up to and including `until`'s."""
    seen: list[str] = []
    while not seen or seen[-1] != until:
        message = await next_of(ws, "module:changed", timeout)
        assert set(message) == {"type", "data"} and set(message["data"]) == {"module"}, message  # no record
        seen.append(message["data"]["module"])
    return seen


async def test_a_record_change_is_signalled_only_to_those_who_may_read_it(app, issuer, other_service) -> None:
    """`notes` records change; `deals` and `parts` records everyone here may read mark where each
    socket's signals must have arrived (core NATS keeps one subject's order), so what a socket
    did not get is proven, not waited for."""
    people = {"alice": ("user",), "bob": ("user",), "carol": ("user",), "dana": ("user", "sales"),
              "root": ("admin",)}
    everyone = {"owner_id": "zed", "shares": [{"kind": "user", "id": p, "access": "read"} for p in people]}
    notes, deals, parts = other_service("notes"), other_service("deals"), other_service("parts")
    async with serve_app(app) as base, contextlib.AsyncExitStack() as stack:
        ws_url = base.replace("http", "ws") + "/ws"
        ws = {p: await stack.enter_async_context(websockets.connect(f"{ws_url}?token={issuer.token(p, roles=r)}"))
              for p, r in people.items()}
        for socket in ws.values():
            await next_of(socket, "hello", 5)
        with context.as_user(User(id="alice")):
            await notes.emit("note:created", {"id": "n1", "title": "Secret", "owner_id": "alice",
                                              "assignees": ["carol"],
                                              "shares": [{"kind": "role", "id": "sales", "access": "read"}]})
            await notes.emit("note:bulk_updated", {"ids": ["n1"], "changed": ["title"], "modified": 1})
            await deals.emit("deal:created", {"id": "d1", **everyone})
        firsts = {p: await changes(socket, "deals") for p, socket in ws.items()}
        assert firsts == {"alice": ["notes", "deals"],  # the owner
                          "bob": ["deals"],  # neither owner, assignee nor shared: not a word of notes
                          "carol": ["notes", "deals"],  # the assignee
                          "dana": ["notes", "deals"],  # shared with her role
                          "root": ["notes", "deals"]}  # an admin
        # the bulk update came within a second of the create: one more signal when that second is up,
        # to its author and the admins (root's, the last socket, is due last)
        assert await changes(ws["alice"], "notes") == ["notes"]
        assert await changes(ws["root"], "notes") == ["notes"]
        with context.as_user(User(id="alice")):
            await parts.emit("part:created", {"id": "p1", **everyone})
        lasts = {p: await changes(socket, "parts") for p, socket in ws.items()}
        assert lasts == {p: ["parts"] for p in people}  # nobody else heard of the bulk update
