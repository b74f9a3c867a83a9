"""People, roles and permissions an admin runs: declared permissions (the kernel's and a
module's from its manifest in the registry) with the `user` role's defaults, unknown names
refused, guards on the last superadmin and one's own admin role, the audit trail, the
directory behind the pickers, access requests and why a person must sign in again."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS
from pymongo import AsyncMongoClient

from webos_auth.adapters.mongo.users import Users
from webos_auth.testing import admin_headers, bearer, declare, login, mail_to, register, user_headers
from webos_common.http.errors import Conflict, NotFound
from webos_common.modules.manifest import ModuleManifest, PermissionSpec
from webos_common.modules.registry import ModuleRegistry


async def _until(check: Any, timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


@pytest.fixture(autouse=True)
async def _withdrawn(nc: NATS) -> AsyncIterator[None]:
    """Manifests a test announced leave the shared registry with it: another test's auth would
    otherwise grant their defaults to its `user` role."""
    registry = ModuleRegistry(nc.jetstream())
    before = set((await registry.live()).keys())
    yield
    for name, manifests in (await registry.live()).items():
        if name not in before:
            for manifest in manifests:
                await registry.withdraw(name, manifest.instance_id)


async def _announce(nc: NATS, name: str) -> None:
    manifest = ModuleManifest(name=name, instance_id="i1", base_url="http://127.0.0.1:1", permissions=[
        PermissionSpec(name=f"{name}.read", description="See the records", default=True),
        PermissionSpec(name=f"{name}.write", description="Change the records", default=True),
        PermissionSpec(name=f"{name}.admin", description="Administer it")])
    await ModuleRegistry(nc.jetstream()).announce(manifest)


async def test_kernel_permissions_are_listed_with_group_and_description(client: httpx.AsyncClient) -> None:
    _, headers = await user_headers(client)  # any signed-in person may see what exists
    listed = (await client.get("/permissions", headers=headers)).json()
    by_name = {p["name"]: p for p in listed}
    assert by_name["auth.users.write"]["group"] == "auth" and by_name["auth.users.write"]["description"]
    assert by_name["storage.read"]["group"] == "storage" and by_name["storage.read"]["default"] is True
    assert (await client.get("/permissions")).status_code == 401


async def test_a_module_announced_in_the_registry_grants_its_defaults_to_new_people(
        client: httpx.AsyncClient, nc: NATS) -> None:
    name = f"m{uuid.uuid4().hex[:8]}"
    await _announce(nc, name)
    admin = await admin_headers(client)

    async def declared() -> list[dict[str, Any]]:  # all three: a declaration is written one permission at a time
        found = list((await client.get("/permissions", headers=admin, params={"module": name})).json())
        return found if len(found) >= 3 else []

    found = await _until(declared)
    assert {p["name"]: (p["group"], p["default"]) for p in found} == {
        f"{name}.admin": (name, False), f"{name}.read": (name, True), f"{name}.write": (name, True)}
    newcomer = await register(client)
    me = (await client.get("/me", headers=bearer(await login(client, newcomer["username"])))).json()
    assert {f"{name}.read", f"{name}.write"} <= set(me["permissions"]) and f"{name}.admin" not in me["permissions"]
    trail = (await client.get("/audit", headers=admin, params={"target": "role:user"})).json()["items"]
    assert {e["details"]["permission"] for e in trail} >= {f"{name}.read", f"{name}.write"}
    # an admin takes a default away: the module's heartbeat does not give it back
    user_role = (await client.get("/roles/user", headers=admin)).json()
    kept = [p for p in user_role["permissions"] if p != f"{name}.write"]
    assert (await client.patch("/roles/user", headers=admin, json={"permissions": kept})).status_code == 200
    await _announce(nc, name)
    await asyncio.sleep(0.5)
    assert f"{name}.write" not in (await client.get("/roles/user", headers=admin)).json()["permissions"]


async def test_unknown_permissions_and_roles_are_named_in_a_422(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    await declare(client, admin, "ledger.read")
    bad = await client.post("/roles", headers=admin, json={"name": "clerk", "permissions": [
        "ledger.read", "ledger.*", "ledger.write", "nothing.*"]})
    assert bad.status_code == 422
    assert [d["message"] for d in bad.json()["error"]["details"]] == [
        "unknown permission ledger.write", "unknown permission nothing.*"]
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"permissions"}
    assert (await client.get("/roles/clerk", headers=admin)).status_code == 404  # nothing half-written
    user = await register(client)
    wrong = await client.patch(f"/users/{user['id']}", headers=admin, json={"roles": ["user", "wizard"]})
    assert wrong.status_code == 422 and "wizard" in wrong.json()["error"]["message"]


async def test_roles_are_renamed_audited_and_builtins_protected(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    await declare(client, admin, "ledger.read", "ledger.write", "ledger.admin")
    made = await client.post("/roles", headers=admin, json={"name": "clerk", "permissions": ["ledger.read"]})
    assert made.status_code == 201
    person = await register(client)
    await client.patch(f"/users/{person['id']}", headers=admin, json={"roles": ["user", "clerk"]})
    renamed = await client.patch("/roles/clerk", headers=admin, json={
        "name": "bookkeeper", "permissions": ["ledger.read", "ledger.write", "ledger.admin"]})
    assert renamed.status_code == 200 and renamed.json()["name"] == "bookkeeper"
    assert (await client.get(f"/users/{person['id']}", headers=admin)).json()["roles"] == ["bookkeeper", "user"]
    assert (await client.patch("/roles/admin", headers=admin, json={"name": "boss"})).status_code == 403
    assert (await client.delete("/roles/superadmin", headers=admin)).status_code == 403
    trail = (await client.get("/audit", headers=admin)).json()["items"]
    actions = [(e["action"], e["target"]) for e in trail]
    assert ("role.created", "role:clerk") in actions and ("role.renamed", "role:bookkeeper") in actions
    assert ("user.roles_changed", f"user:{person['id']}") in actions
    change = next(e for e in trail if e["action"] == "user.roles_changed")
    assert change["actor"]["username"] == "root" and change["details"]["after"] == ["clerk", "user"]
    _, plain = await user_headers(client)
    assert (await client.get("/audit", headers=plain)).status_code == 403


async def test_the_last_superadmin_and_ones_own_admin_role_stay(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    root_id = (await client.get("/me", headers=root)).json()["id"]
    refused = await client.patch(f"/users/{root_id}", headers=root, json={"roles": ["user"]})
    assert refused.status_code == 403 and refused.json()["error"]["details"]["field"] == "roles"
    second = await register(client, "sue")
    await client.patch(f"/users/{second['id']}", headers=root, json={"roles": ["user", "superadmin"]})
    own = await client.patch(f"/users/{root_id}", headers=root, json={"roles": ["user"]})
    assert own.status_code == 403  # not one's own, even with another superadmin about
    sue = bearer(await login(client, "sue"))
    assert (await client.patch(f"/users/{root_id}", headers=sue, json={"roles": ["user"]})).status_code == 200
    root_again = bearer(await login(client, "sue"))
    last = await client.patch(f"/users/{second['id']}", headers=root_again, json={"active": False})
    assert last.status_code == 403  # own account; and sue is now the last superadmin
    assert (await client.delete(f"/users/{second['id']}", headers=root_again)).status_code == 403


async def test_a_person_whose_roles_changed_is_told_why_at_the_next_refresh(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    await declare(client, admin, "ledger.read")
    await client.post("/roles", headers=admin, json={"name": "clerk", "permissions": ["ledger.read"]})
    person = await register(client)
    tokens = await login(client, person["username"])
    await client.patch(f"/users/{person['id']}", headers=admin, json={"roles": ["user", "clerk"]})
    answer = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "signed_out_by_admin" and "clerk" in error["message"]
    fresh = await login(client, person["username"])
    assert "ledger.read" in (await client.get("/me", headers=bearer(fresh))).json()["permissions"]


async def test_admin_signs_a_person_out_everywhere_and_sends_a_reset(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    person = await register(client)
    tokens = await login(client, person["username"])
    assert (await client.post(f"/users/{person['id']}/sign-out", headers=admin)).status_code == 200
    assert (await client.get("/me", headers=bearer(tokens))).status_code == 401
    refreshed = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.json()["error"]["message"] == "An administrator signed you out everywhere"
    assert (await client.post(f"/users/{person['id']}/reset-password", headers=admin)).status_code == 202
    mail = await mail_to(client, person["email"])
    assert any(m["kind"] == "reset" for m in mail)
    listed = (await client.get(f"/users/{person['id']}", headers=admin)).json()
    assert listed["last_login"] is not None


async def test_the_directory_behind_the_pickers(client: httpx.AsyncClient) -> None:
    await register(client, "zoe")
    await register(client, "zack")
    _, headers = await user_headers(client)
    found = (await client.get("/directory/people", headers=headers, params={"q": "Z"})).json()["items"]
    assert [p["username"] for p in found] == ["zack", "zoe"] and set(found[0]) == {
        "id", "username", "display_name", "active"}  # no e-mail addresses
    one = (await client.get(f"/directory/people/{found[1]['id']}", headers=headers)).json()
    assert one["username"] == "zoe"
    assert (await client.get("/directory/people/nobody", headers=headers)).status_code == 404
    roles = [r["name"] for r in (await client.get("/directory/roles", headers=headers)).json()["items"]]
    assert {"user", "admin", "superadmin"} <= set(roles)
    assert (await client.get("/directory/roles/wizard", headers=headers)).status_code == 404


async def test_a_person_asks_for_access_and_every_admin_is_notified(client: httpx.AsyncClient, nc: NATS) -> None:
    admin = await admin_headers(client)
    admin_id = (await client.get("/me", headers=admin)).json()["id"]
    sent: list[dict[str, Any]] = []

    async def collect(msg: Any) -> None:
        sent.append(json.loads(msg.data))

    sub = await nc.subscribe("webos.events.auth.notification.send", cb=collect)
    person, headers = await user_headers(client)
    unknown = await client.post("/me/access-request", headers=headers, json={"permissions": ["nothing.read"]})
    assert unknown.status_code == 422
    asked = await client.post("/me/access-request", headers=headers, json={"message": "I run the stock room"})
    assert asked.status_code == 202 and asked.json()["notified"] == 1

    async def arrived() -> list[dict[str, Any]]:
        return [e for e in sent if (e.get("data") or e.get("payload") or e).get("user_id") == admin_id]

    notes = await _until(arrived)
    await sub.unsubscribe()
    assert notes, sent
    body = notes[0].get("data") or notes[0].get("payload") or notes[0]
    assert body["type"] == "access_request" and person["username"] in body["title"]
    assert (await client.post("/me/access-request", json={})).status_code == 401


async def test_an_admin_approves_one_access_request_with_a_role_and_denies_another(
        client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    role = f"r{uuid.uuid4().hex[:6]}"
    assert (await client.post("/roles", headers=admin, json={"name": role, "permissions": []})).status_code == 201
    ann, ann_h = await user_headers(client)
    bob, bob_h = await user_headers(client)
    await client.post("/me/access-request", headers=ann_h, json={"message": "first"})
    await client.post("/me/access-request", headers=ann_h, json={"message": "the stock room"})  # replaces it
    asked = await asyncio.gather(*(client.post("/me/access-request", headers=bob_h, json={"message": "me too"})
                                   for _ in range(8)))  # at once: one pending request, no 500
    assert {r.status_code for r in asked} == {202}
    assert (await client.get("/access-requests", headers=ann_h)).status_code == 403
    items = (await client.get("/access-requests", headers=admin)).json()["items"]
    assert [r["username"] for r in items].count(bob["username"]) == 1
    pending = {r["username"]: r for r in items}
    assert pending[ann["username"]]["message"] == "the stock room" and bob["username"] in pending
    ann_req, bob_req = pending[ann["username"]]["id"], pending[bob["username"]]["id"]

    unknown = await client.post(f"/access-requests/{ann_req}/approve", headers=admin, json={"roles": ["nope"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "roles"
    none = await client.post(f"/access-requests/{ann_req}/approve", headers=admin, json={"roles": []})
    assert none.status_code == 422
    approved = await client.post(f"/access-requests/{ann_req}/approve", headers=admin, json={"roles": [role]})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["granted"] == [role]
    assert sorted((await client.get(f"/users/{ann['id']}", headers=admin)).json()["roles"]) == sorted(
        ["user", role])
    assert (await client.post(f"/access-requests/{bob_req}/deny", headers=bob_h)).status_code == 403
    assert (await client.post(f"/access-requests/{bob_req}/deny", headers=admin)).json()["status"] == "denied"
    assert (await client.get(f"/users/{bob['id']}", headers=admin)).json()["roles"] == ["user"]
    left = [r["id"] for r in (await client.get("/access-requests", headers=admin)).json()["items"]]
    assert ann_req not in left and bob_req not in left
    again = await client.post(f"/access-requests/{ann_req}/approve", headers=admin, json={"roles": [role]})
    assert again.status_code == 404  # answered already


async def test_a_role_change_decided_on_roles_changed_meanwhile_writes_nothing(
        client: httpx.AsyncClient, settings: Any) -> None:
    """Approving merges the granted roles into the person's. Read-then-write would let another
    admin's change made in between be lost; the write is conditional on the roles it read."""
    person, _ = await user_headers(client)
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    users = Users(mongo[settings.mongo_db]["auth_users"])
    try:
        with pytest.raises(Conflict):  # decided on ["user"], but it is ["user", "x"] by now
            await users.collection.update_one({"_id": person["id"]}, {"$set": {"roles": ["user", "x"]}})
            await users.update(person["id"], {"roles": ["stale"]}, unchanged={"roles": ["user"]})
        assert (await users.get(person["id"]))["roles"] == ["user", "x"]
        with pytest.raises(NotFound):
            await users.update("nobody", {"roles": []}, unchanged={"roles": []})
        await users.collection.update_one({"_id": person["id"]}, {"$set": {"roles": ["user"]}})
    finally:
        await mongo.close()


async def test_a_declaration_cannot_hand_everyone_a_wildcard_or_anothers_permission(
        client: httpx.AsyncClient, nc: NATS) -> None:
    """`default` grants a declared permission to every person: a declaration of `*`, a wildcard,
    another module's or a kernel service's permission would make everyone an admin."""
    admin = await admin_headers(client)
    before = (await client.get("/roles/user", headers=admin)).json()["permissions"]
    for module, name, field in (("ledger", "*", "permissions.0.name"), ("ledger", "ledger.*", "permissions.0.name"),
                                ("ledger", "auth.users.write", "permissions"), ("ledger", "tasks.admin", "permissions"),
                                ("auth", "auth.keys.rotate", "module")):
        refused = await client.post("/permissions", headers=admin, json={
            "module": module, "permissions": [{"name": name, "default": True}]})
        assert refused.status_code == 422, (module, name, refused.text)
        assert [d["field"] for d in refused.json()["error"]["details"]] == [field], refused.json()
    # the same through the registry: a module's manifest naming what is not its own
    name = f"m{uuid.uuid4().hex[:8]}"
    await ModuleRegistry(nc.jetstream()).announce(ModuleManifest(
        name=name, instance_id="i1", base_url="http://127.0.0.1:1", permissions=[
            PermissionSpec(name=f"{name}.read", default=True),
            PermissionSpec(name="auth.users.write", default=True)]))

    async def declared() -> list[dict[str, Any]]:
        return list((await client.get("/permissions", headers=admin, params={"module": name})).json())

    async def granted() -> set[str]:
        return set((await client.get("/roles/user", headers=admin)).json()["permissions"]) - set(before)

    assert await _until(granted) == {f"{name}.read"}  # the grant follows the declaration
    assert [p["name"] for p in await declared()] == [f"{name}.read"]
    owner = {p["name"]: p["module"] for p in (await client.get("/permissions", headers=admin)).json()}
    assert owner["auth.users.write"] == "auth"
