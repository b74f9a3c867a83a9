"""Task status and cancel through the events service."""

from __future__ import annotations

import asyncio

from webos_common import context
from webos_common.identity import User
from webos_common.tasks import task
from webos_common.tasks.worker import running_worker

STARTED: list[str] = []


@task
async def slow_export(key: str) -> None:
    STARTED.append(key)
    await asyncio.sleep(30)


@task
async def quick_sum(a: int, b: int) -> int:
    return a + b


async def test_a_user_sees_their_task_status_and_others_do_not(client, alice, bob, admin, nats_url,
                                                               eventually) -> None:
    async with running_worker(nats_url):
        with context.as_user(User(id="alice", username="alice")):
            handle = await quick_sum.kiq(2, 3)

        async def finished():
            body = (await client.get(f"/tasks/{handle.task_id}", headers=alice)).json()
            return body if body.get("state") == "succeeded" else None

        record = await eventually(finished)
        assert record["result"] == 5 and record["user_id"] == "alice" and record["username"] == "alice"
        assert record["started_at"] and record["finished_at"]
        assert (await client.get(f"/tasks/{handle.task_id}", headers=bob)).status_code == 404
        assert (await client.get(f"/tasks/{handle.task_id}", headers=admin)).status_code == 200
        listed = (await client.get("/tasks", headers=alice)).json()
        assert handle.task_id in [t["id"] for t in listed["items"]]
        assert all(t["user_id"] == "alice" for t in listed["items"])
        assert handle.task_id not in [t["id"] for t in (await client.get("/tasks", headers=bob)).json()["items"]]
        assert (await client.get("/tasks", params={"user_id": "alice"}, headers=bob)).status_code == 403


async def test_a_user_cancels_their_running_task_but_not_someone_elses(client, alice, bob, nats_url,
                                                                       eventually) -> None:
    async with running_worker(nats_url):
        with context.as_user(User(id="alice")):
            handle = await slow_export.kiq("e1")
        await eventually(lambda: "e1" in STARTED)
        assert (await client.post(f"/tasks/{handle.task_id}/cancel", headers=bob)).status_code == 404
        asked = await client.post(f"/tasks/{handle.task_id}/cancel", headers=alice)
        assert asked.status_code == 200 and asked.json()["cancel_requested"] is True

        async def cancelled():
            body = (await client.get(f"/tasks/{handle.task_id}", headers=alice)).json()
            return body if body["state"] == "cancelled" else None

        record = await eventually(cancelled)
        assert record["finished_at"] is not None
