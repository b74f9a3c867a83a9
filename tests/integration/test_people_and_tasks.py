"""Auth and the tasks module together, over real HTTP, MongoDB and NATS: the first day (a
person who just signed up can create a task, because tasks declares its defaults in its
manifest), sharing and assignment (isolation = owner + shares + assignees + record rules,
404 for the rest, a revoked share gone at once) and the notifications they send."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from webos_auth.main import create_app as create_auth
from webos_auth.testing import Accounts, admin_headers, bearer, login, register
from webos_common.documents.sharing import RecordRule
from webos_common.settings.client import ModuleSettings
from webos_common.testing import lifespan_client, serve_app
from webos_modulehost import create_app as create_host


@dataclass
class Stack:
    auth: httpx.AsyncClient
    tasks: httpx.AsyncClient
    app: Any

    async def person(self) -> tuple[dict[str, Any], dict[str, str]]:
        made = await register(self.auth)
        return made, bearer(await login(self.auth, made["username"]))


async def _until(check: Any, timeout: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.2)


@pytest.fixture
async def stack(webos_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    accounts = Accounts(tmp_path / "credentials")
    accounts.add("tasks", "module")
    accounts.add("auth", "service")  # the audience of the module's directory look-ups
    auth_app = create_auth(accounts.settings())
    async with serve_app(auth_app) as auth_url:
        monkeypatch.setenv("WEBOS_AUTH_URL", auth_url)  # the host verifies auth's tokens (its JWKS)
        monkeypatch.setenv("WEBOS_SCHEDULER", "false")
        host = create_host("tasks")
        host.state.resources.credentials = accounts.credentials("tasks", auth_url)  # asks auth's directory
        async with httpx.AsyncClient(base_url=auth_url, timeout=15) as auth, lifespan_client(host) as tasks:
            admin = await admin_headers(auth)

            async def declared() -> bool:
                names = {p["name"] for p in (await auth.get("/permissions", headers=admin)).json()}
                return "tasks.write" in names

            assert await _until(declared), "auth never saw the tasks manifest"
            yield Stack(auth, tasks, host)


async def test_a_person_who_just_signed_up_can_create_a_task(stack: Stack) -> None:
    _, headers = await stack.person()
    made = await stack.tasks.post("/api/tasks/tasks", headers=headers, json={"title": "My first task"})
    assert made.status_code == 201, made.text
    assert (await stack.tasks.get("/api/tasks/tasks", headers=headers)).json()["total"] == 1
    assert (await stack.tasks.delete(f"/api/tasks/tasks/{made.json()['id']}/purge", headers=headers)
            ).status_code == 403  # tasks.admin is not a default


async def test_sharing_reads_writes_and_revokes_at_once(stack: Stack) -> None:
    _, ann_h = await stack.person()
    bob, bob_h = await stack.person()
    _, eve_h = await stack.person()
    task = (await stack.tasks.post("/api/tasks/tasks", headers=ann_h, json={"title": "Budget"})).json()
    url = f"/api/tasks/tasks/{task['id']}"
    assert (await stack.tasks.get(url, headers=bob_h)).status_code == 404
    shared = await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": [{"id": bob["id"]}]})
    assert shared.status_code == 200, shared.text
    assert shared.json()["shares"] == [
        {"kind": "user", "id": bob["id"], "access": "read"}]
    assert (await stack.tasks.get(url, headers=bob_h)).json()["title"] == "Budget"
    assert [t["id"] for t in (await stack.tasks.get("/api/tasks/tasks", headers=bob_h)).json()["items"]] == [
        task["id"]]
    assert (await stack.tasks.patch(url, headers=bob_h, json={"title": "Mine now"})).status_code == 404
    reshare = await stack.tasks.put(f"{url}/shares", headers=bob_h, json={"shares": []})
    assert reshare.status_code == 403  # one cannot share what one cannot write
    assert (await stack.tasks.get(url, headers=eve_h)).status_code == 404
    assert (await stack.tasks.put(f"{url}/shares", headers=eve_h, json={"shares": []})).status_code == 404
    await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": [{"id": bob["id"], "access": "write"}]})
    assert (await stack.tasks.patch(url, headers=bob_h, json={"title": "Budget 2"})).status_code == 200
    await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": []})
    assert (await stack.tasks.get(url, headers=bob_h)).status_code == 404  # revoked: gone at once
    assert (await stack.tasks.get(url, headers=ann_h)).json()["title"] == "Budget 2"


async def test_sharing_with_a_role_and_unknown_targets(stack: Stack) -> None:
    admin = await admin_headers(stack.auth)
    await stack.auth.post("/roles", headers=admin, json={"name": "finance", "permissions": []})
    _, ann_h = await stack.person()
    cat, _ = await stack.person()
    await stack.auth.patch(f"/users/{cat['id']}", headers=admin, json={"roles": ["user", "finance"]})
    cat_h = bearer(await login(stack.auth, cat["username"]))
    task = (await stack.tasks.post("/api/tasks/tasks", headers=ann_h, json={"title": "Invoices"})).json()
    url = f"/api/tasks/tasks/{task['id']}"
    nobody = await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": [{"id": "no-such-person"}]})
    assert nobody.status_code == 404 and nobody.json()["error"]["details"] == {"field": "shares",
                                                                                "id": "no-such-person"}
    no_role = await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": [
        {"kind": "role", "id": "wizards"}]})
    assert no_role.status_code == 404
    bad = await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": [{"kind": "team", "id": "x"}]})
    assert bad.status_code == 422
    ok = await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": [{"kind": "role", "id": "finance"}]})
    assert ok.status_code == 200
    assert (await stack.tasks.get(url, headers=cat_h)).status_code == 200


async def test_assigned_to_me_and_the_assignee_is_notified(stack: Stack, nc: NATS) -> None:
    ann, ann_h = await stack.person()
    bob, bob_h = await stack.person()
    sent: list[dict[str, Any]] = []

    async def collect(msg: Any) -> None:
        sent.append(json.loads(msg.data))

    sub = await nc.subscribe("webos.events.tasks.notification.send", cb=collect)
    await stack.tasks.post("/api/tasks/tasks", headers=ann_h, json={"title": "Ann's own"})
    task = (await stack.tasks.post("/api/tasks/tasks", headers=ann_h, json={"title": "Call the bank"})).json()
    url = f"/api/tasks/tasks/{task['id']}"
    unknown = await stack.tasks.put(f"{url}/assignees", headers=ann_h, json={"assignees": ["ghost"]})
    assert unknown.status_code == 404 and unknown.json()["error"]["details"]["field"] == "assignees"
    assigned = await stack.tasks.put(f"{url}/assignees", headers=ann_h, json={"assignees": [bob["id"]]})
    assert assigned.status_code == 200 and assigned.json()["assignees"] == [bob["id"]]
    mine = (await stack.tasks.get("/api/tasks/tasks", headers=bob_h, params={"assigned": "me"})).json()
    assert [t["title"] for t in mine["items"]] == ["Call the bank"]
    moved = await stack.tasks.post(f"{url}/move", headers=bob_h, json={"status": "done"})
    assert moved.status_code == 200  # an assignee works on the task
    ann_assigned = (await stack.tasks.get("/api/tasks/tasks", headers=ann_h, params={"assigned": "me"})).json()
    assert ann_assigned["total"] == 0

    def for_bob() -> list[dict[str, Any]]:
        out = []
        for event in sent:
            body = event.get("data") or event.get("payload") or event
            if body.get("user_id") == bob["id"] and body.get("type") == "task_assigned":
                out.append(body)
        return out

    async def arrived() -> list[dict[str, Any]]:
        return for_bob()

    notes = await _until(arrived)
    await sub.unsubscribe()
    assert notes and notes[0]["message"] == "Call the bank" and ann["username"] in notes[0]["title"]
    unassigned = await stack.tasks.put(f"{url}/assignees", headers=ann_h, json={"assignees": []})
    assert unassigned.status_code == 200
    assert (await stack.tasks.get(url, headers=bob_h)).status_code == 404


async def test_a_record_rule_lets_a_role_read_a_teams_tasks(stack: Stack) -> None:
    admin = await admin_headers(stack.auth)
    await stack.auth.post("/roles", headers=admin, json={"name": "manager", "permissions": []})
    _, ann_h = await stack.person()
    max_, _ = await stack.person()
    await stack.auth.patch(f"/users/{max_['id']}", headers=admin, json={"roles": ["user", "manager"]})
    max_h = bearer(await login(stack.auth, max_["username"]))
    team = (await stack.tasks.post("/api/tasks/tasks", headers=ann_h, json={"title": "T", "tags": ["team-a"]})).json()
    other = (await stack.tasks.post("/api/tasks/tasks", headers=ann_h, json={"title": "O"})).json()
    assert (await stack.tasks.get(f"/api/tasks/tasks/{team['id']}", headers=max_h)).status_code == 404
    # the rules as an admin saved them in the module's settings (the settings service is not
    # part of this test: its value is put where a settings:changed reload would put it)
    config = stack.app.state.services.get(ModuleSettings)
    config._value = config.get().model_copy(update={"record_rules": [
        RecordRule(role="manager", access="read", where={"tags": "team-a"})]})
    assert (await stack.tasks.get(f"/api/tasks/tasks/{team['id']}", headers=max_h)).status_code == 200
    assert (await stack.tasks.get(f"/api/tasks/tasks/{other['id']}", headers=max_h)).status_code == 404
    assert (await stack.tasks.patch(f"/api/tasks/tasks/{team['id']}", headers=max_h, json={"title": "x"})
            ).status_code == 404  # a read rule does not write


async def test_two_people_changing_the_lists_over_one_version_the_second_is_told(stack: Stack) -> None:
    """`PUT …/assignees` and `…/shares` replace the whole list: over a version (`If-Match`) a
    second writer who read the same version gets a 412 with the current one, and the first
    writer's list stands (without it, the second would silently drop the first's person)."""
    _, ann_h = await stack.person()
    bob, _ = await stack.person()
    cat, _ = await stack.person()
    task = (await stack.tasks.post("/api/tasks/tasks", headers=ann_h, json={"title": "Audit"})).json()
    url = f"/api/tasks/tasks/{task['id']}"
    read = await stack.tasks.get(url, headers=ann_h)
    seen = read.headers["etag"]
    first = await stack.tasks.put(f"{url}/assignees", headers={**ann_h, "If-Match": seen},
                                  json={"assignees": [bob["id"]]})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == f'"{first.json()["version"]}"' and first.headers["etag"] != seen
    second = await stack.tasks.put(f"{url}/assignees", headers={**ann_h, "If-Match": seen},
                                   json={"assignees": [cat["id"]]})
    assert second.status_code == 412, second.text
    assert second.json()["error"]["details"]["version"] == first.json()["version"]
    assert second.headers["etag"] == first.headers["etag"]
    stale_share = await stack.tasks.put(f"{url}/shares", headers={**ann_h, "If-Match": seen},
                                        json={"shares": [{"id": cat["id"]}]})
    assert stale_share.status_code == 412
    now = (await stack.tasks.get(url, headers=ann_h)).json()
    assert now["assignees"] == [bob["id"]] and now["shares"] == [] and now["version"] == first.json()["version"]
    stale_patch = await stack.tasks.patch(url, headers={**ann_h, "If-Match": seen},
                                          json={"title": "Audit 2", "assignees": [cat["id"]]})
    assert stale_patch.status_code == 412  # a PATCH naming assignees: neither its fields nor the list
    now = (await stack.tasks.get(url, headers=ann_h)).json()
    assert (now["title"], now["assignees"]) == ("Audit", [bob["id"]])
    both = await stack.tasks.patch(url, headers={**ann_h, "If-Match": first.headers["etag"]},
                                   json={"title": "Audit 2", "assignees": [bob["id"], cat["id"]]})
    assert both.status_code == 200 and both.json()["assignees"] == [bob["id"], cat["id"]]
    unconditional = await stack.tasks.put(f"{url}/shares", headers=ann_h, json={"shares": [{"id": cat["id"]}]})
    assert unconditional.status_code == 200  # no If-Match: the list is replaced, as before
