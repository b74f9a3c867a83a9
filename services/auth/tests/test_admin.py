"""Admin endpoints: permission checks, pagination and search, roles and
module permissions, invitations, isolation between users."""

from __future__ import annotations

import httpx

from webos_auth.main import create_app
from webos_auth.testing import PASSWORD, admin_headers, auth_settings, bearer, login, mail_to, register, user_headers
from webos_common.identity import PERSON_PERMISSIONS
from webos_common.testing import lifespan_client


async def test_non_admin_cannot_reach_admin_endpoints(client: httpx.AsyncClient) -> None:
    user, headers = await user_headers(client)
    root_id = (await client.get("/me", headers=await admin_headers(client))).json()["id"]
    calls = [
        ("GET", "/users", None),
        ("POST", "/users", {"email": "x@example.com", "username": "xx1", "password": PASSWORD}),
        ("GET", f"/users/{root_id}", None), ("PATCH", f"/users/{root_id}", {"active": False}),
        ("DELETE", f"/users/{root_id}", None), ("POST", f"/users/{user['id']}/unlock", None),
        ("GET", "/roles", None), ("POST", "/roles", {"name": "ops"}), ("DELETE", "/roles/user", None),
        ("POST", "/permissions", {"module": "tasks", "permissions": []}), ("POST", "/keys/rotate", None),
        ("POST", "/users/invite", {"email": "y@example.com"}),
    ]
    for method, path, body in calls:
        resp = await client.request(method, path, headers=headers, json=body)
        assert resp.status_code == 403, (method, path, resp.text)
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
    assert (await client.get(f"/users/{root_id}", headers=await admin_headers(client))).json()["active"] is True


async def test_user_list_is_paginated_and_searchable(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    for i in range(5):
        await register(client, f"page{i}")
    await register(client, "zed")
    page = (await client.get("/users", headers=admin, params={"skip": 0, "limit": 2})).json()
    assert page["total"] == 7 and len(page["items"]) == 2 and page["has_more"] is True
    assert set(page) == {"items", "total", "skip", "limit", "has_more"}
    last = (await client.get("/users", headers=admin, params={"skip": 6, "limit": 2})).json()
    assert len(last["items"]) == 1 and last["has_more"] is False
    found = (await client.get("/users", headers=admin, params={"q": "PAGE"})).json()
    assert found["total"] == 5 and all(u["username"].startswith("page") for u in found["items"])
    regex = (await client.get("/users", headers=admin, params={"q": ".*"})).json()
    assert regex["total"] == 0  # search text is literal, not a pattern
    supers = (await client.get("/users", headers=admin, params={"role": "superadmin"})).json()
    assert [u["username"] for u in supers["items"]] == ["root"]
    bad = await client.get("/users", headers=admin, params={"limit": 1000})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "limit"


async def test_admin_creates_updates_deletes_users(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    created = await client.post("/users", headers=admin, json={
        "email": "pat@example.com", "username": "pat", "password": PASSWORD, "roles": ["user"]})
    assert created.status_code == 201
    uid = created.json()["id"]
    unknown_role = await client.patch(f"/users/{uid}", headers=admin, json={"roles": ["wizard"]})
    assert unknown_role.status_code == 422 and unknown_role.json()["error"]["details"][0]["field"] == "roles"
    bad = await client.patch(f"/users/{uid}", headers=admin, json={"email": "nope", "active": "maybe"})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"email", "active"}
    renamed = await client.patch(f"/users/{uid}", headers=admin, json={"profile": {"display_name": "Pat P."}})
    assert renamed.json()["profile"]["display_name"] == "Pat P."
    assert (await client.delete(f"/users/{uid}", headers=admin)).status_code == 200
    assert (await client.get(f"/users/{uid}", headers=admin)).status_code == 404
    assert (await client.post("/login", json={"login": "pat", "password": PASSWORD})).status_code == 401


async def test_roles_grant_permissions_into_tokens(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    declared = await client.post("/permissions", headers=admin, json={
        "module": "inventory", "permissions": [{"name": "inventory.read", "description": "See stock"},
                                               {"name": "inventory.write"}]})
    assert declared.status_code == 204
    known = (await client.get("/permissions", headers=admin, params={"module": "inventory"})).json()
    assert [p["name"] for p in known] == ["inventory.read", "inventory.write"]
    bad = await client.post("/roles", headers=admin, json={"name": "Bad Name", "permissions": ["Not Valid"]})
    assert bad.status_code == 422 and {d["field"] for d in bad.json()["error"]["details"]} == {
        "name", "permissions.0"}
    role = await client.post("/roles", headers=admin, json={"name": "clerk", "permissions": ["inventory.*"]})
    assert role.status_code == 201
    assert (await client.post("/roles", headers=admin, json={"name": "clerk"})).status_code == 409
    user = await register(client, "quinn")
    await client.patch(f"/users/{user['id']}", headers=admin, json={"roles": ["user", "clerk"]})
    me = (await client.get("/me", headers=bearer(await login(client, "quinn")))).json()
    assert me["roles"] == ["clerk", "user"] and me["permissions"] == sorted(["inventory.*", *PERSON_PERMISSIONS])
    assert (await client.delete("/roles/user", headers=admin)).status_code == 403
    assert (await client.patch("/roles/superadmin", headers=admin, json={"permissions": []})).status_code == 403
    assert (await client.delete("/roles/clerk", headers=admin)).status_code == 200
    me = (await client.get("/me", headers=bearer(await login(client, "quinn")))).json()
    assert me["roles"] == ["user"] and me["permissions"] == sorted(PERSON_PERMISSIONS)


async def test_only_superadmin_grants_admin(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    admin_user = await register(client, "rita")
    await client.patch(f"/users/{admin_user['id']}", headers=root, json={"roles": ["user", "admin"]})
    admin = bearer(await login(client, "rita"))
    plain = await register(client, "sam")
    escalate = await client.patch(f"/users/{plain['id']}", headers=admin, json={"roles": ["superadmin"]})
    assert escalate.status_code == 403
    root_id = (await client.get("/me", headers=root)).json()["id"]
    assert (await client.delete(f"/users/{root_id}", headers=admin)).status_code == 403
    ok = await client.patch(f"/users/{plain['id']}", headers=admin, json={"verified": True})
    assert ok.status_code == 200 and ok.json()["verified"] is True


async def test_users_are_isolated_from_each_other(client: httpx.AsyncClient) -> None:
    alice, alice_h = await user_headers(client)
    bob, bob_h = await user_headers(client)
    assert (await client.get(f"/users/{alice['id']}", headers=bob_h)).status_code == 403
    assert (await client.patch(f"/users/{alice['id']}", headers=bob_h, json={"active": False})).status_code == 403
    changed = await client.patch("/me", headers=bob_h, json={"profile": {"display_name": "Bobby"}})
    assert changed.json()["id"] == bob["id"]
    assert (await client.get("/me", headers=alice_h)).json()["profile"]["display_name"] == alice["username"]
    sneaky = await client.patch("/me", headers=bob_h, json={"id": alice["id"], "roles": ["admin"]})
    assert sneaky.status_code == 422


async def test_registration_by_invitation_only(webos_env: dict[str, str]) -> None:
    async with lifespan_client(create_app(auth_settings(registration="invite"))) as client:
        body = {"email": "tess@example.com", "username": "tess", "password": PASSWORD}
        refused = await client.post("/register", json=body)
        assert refused.status_code == 403 and refused.json()["error"]["details"]["field"] == "invite"
        admin = await admin_headers(client)
        invited = await client.post("/users/invite", headers=admin, json={"email": "tess@example.com"})
        assert invited.status_code == 202
        token = (await mail_to(client, "tess@example.com"))[0]["token"]
        wrong_email = await client.post("/register", json={**body, "email": "other@example.com", "invite": token})
        assert wrong_email.status_code == 400
        weak = await client.post("/register", json={**body, "password": "weak", "invite": token})
        assert weak.status_code == 422  # and the invitation is still usable:
        ok = await client.post("/register", json={**body, "invite": token})
        assert ok.status_code == 201 and ok.json()["verified"] is True
        again = await client.post("/register", json={**body, "username": "tess2", "invite": token})
        assert again.status_code == 400


async def test_an_invitation_is_honoured_while_registration_is_open(client: httpx.AsyncClient) -> None:
    """Open sign-up does not make an invitation void: its roles apply and it is used up."""
    admin = await admin_headers(client)
    invited = await client.post("/users/invite", headers=admin, json={"email": "olga@example.com",
                                                                      "roles": ["user", "admin"]})
    assert invited.status_code == 202
    token = (await mail_to(client, "olga@example.com"))[0]["token"]
    body = {"email": "olga@example.com", "username": "olga", "password": PASSWORD}
    forged = await client.post("/register", json={**body, "invite": "not-a-real-invitation"})
    assert forged.status_code == 400 and forged.json()["error"]["details"]["field"] == "invite"
    taken = await client.post("/register", json={**body, "username": "root", "invite": token})
    assert taken.status_code == 409  # the user name is taken: the invitation is not used up
    ok = await client.post("/register", json={**body, "invite": token})
    assert ok.status_code == 201, ok.text
    assert ok.json()["roles"] == ["admin", "user"] and ok.json()["verified"] is True
    again = await client.post("/register", json={**body, "email": "olga@example.com", "username": "olga2",
                                                  "invite": token})
    assert again.status_code == 400 and again.json()["error"]["details"]["field"] == "invite"  # used up
    plain = await client.post("/register", json={"email": "pat@example.com", "username": "pat", "password": PASSWORD})
    assert plain.status_code == 201 and plain.json()["roles"] == ["user"]  # open sign-up as before


async def test_closed_registration(webos_env: dict[str, str]) -> None:
    async with lifespan_client(create_app(auth_settings(registration="closed"))) as client:
        resp = await client.post("/register", json={"email": "u@example.com", "username": "uma", "password": PASSWORD})
        assert resp.status_code == 403


async def test_delegated_role_manager_cannot_grant_more_than_they_hold(client: httpx.AsyncClient) -> None:
    root = await admin_headers(client)
    await client.post("/permissions", headers=root, json={"module": "tasks", "permissions": [
        {"name": "tasks.read"}, {"name": "tasks.write"}]})
    await client.post("/permissions", headers=root, json={"module": "inventory", "permissions": [
        {"name": "inventory.read"}]})
    await client.post("/roles", headers=root, json={"name": "rolemgr",
                                                    "permissions": ["auth.roles.*", "tasks.*"]})
    manager = await register(client, "vera")
    await client.patch(f"/users/{manager['id']}", headers=root, json={"roles": ["user", "rolemgr"]})
    headers = bearer(await login(client, "vera"))
    wide = await client.post("/roles", headers=headers, json={"name": "god", "permissions": ["*"]})
    assert wide.status_code == 403 and wide.json()["error"]["details"]["not_granted"] == ["*"]
    ok = await client.post("/roles", headers=headers, json={"name": "reader", "permissions": ["tasks.read"]})
    assert ok.status_code == 201
    grow = await client.patch("/roles/reader", headers=headers, json={"permissions": ["inventory.*"]})
    assert grow.status_code == 403
