"""Sign-up, sign-in, refresh rotation and reuse, sign-out, verify, reset."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import PASSWORD, admin_headers, auth_settings, bearer, login, mail_to, register, user_headers
from webos_common.testing import lifespan_client


async def test_register_login_me_and_cookie(client: httpx.AsyncClient) -> None:
    user = await register(client, "alice")
    assert user["roles"] == ["user"] and user["verified"] is False
    assert "password_hash" not in user
    resp = await client.post("/login", json={"login": "alice@example.com", "password": PASSWORD})
    assert resp.status_code == 200
    cookie = resp.headers.get_list("set-cookie")
    access = next(c for c in cookie if c.startswith("access_token="))
    assert "HttpOnly" in access and "SameSite=lax" in access
    me = await client.get("/me")  # the cookie alone signs the browser in
    assert me.status_code == 200 and me.json()["username"] == "alice"
    client.cookies.clear()
    me = await client.get("/me", headers=bearer(resp.json()))
    assert me.json()["email"] == "alice@example.com" and me.json()["last_login"] is not None


async def test_duplicate_email_or_username_is_409_naming_the_field(client: httpx.AsyncClient) -> None:
    await register(client, "bob")
    same_email = await client.post("/register", json={"email": "BOB@example.com", "username": "bob2",
                                                      "password": PASSWORD})
    same_name = await client.post("/register", json={"email": "other@example.com", "username": "bob",
                                                     "password": PASSWORD})
    assert same_email.status_code == 409 and same_email.json()["error"]["details"]["field"] == "email"
    assert same_name.status_code == 409 and same_name.json()["error"]["details"]["field"] == "username"


async def test_names_and_addresses_are_unique_regardless_of_case(client: httpx.AsyncClient) -> None:
    await register(client, "Casey")
    clash = await client.post("/register", json={"email": "c2@example.com", "username": "cASEY", "password": PASSWORD})
    assert clash.status_code == 409 and clash.json()["error"]["details"]["field"] == "username"
    someone, headers = await user_headers(client)
    renamed = await client.patch("/me", json={"username": "ROOT"}, headers=headers)
    assert renamed.status_code == 409 and renamed.json()["error"]["details"]["field"] == "username"
    readdressed = await client.patch(f"/users/{someone['id']}", json={"email": "CASEY@Example.com"},
                                     headers=await admin_headers(client))
    assert readdressed.status_code == 409 and readdressed.json()["error"]["details"]["field"] == "email"
    client.cookies.clear()
    assert (await login(client, "CASEY"))["user"]["username"] == "Casey"  # either spelling finds the account


async def test_old_names_that_clash_by_case_are_renamed_before_the_index_swap(settings: AuthSettings) -> None:
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    users = mongo[settings.mongo_db]["auth_users"]
    await users.create_index("username", unique=True)  # the case-sensitive index of earlier versions
    now = datetime.now(UTC)
    for n, name in enumerate(("dana", "DANA", "Dana")):
        await users.insert_one({"_id": f"old-{n}", "username": name, "email": f"d{n}@example.com",
                                "password_hash": None, "roles": ["user"], "created_at": now + timedelta(seconds=n),
                                "active": True, "verified": True})
    try:
        async with lifespan_client(create_app(settings)):
            names = {d["_id"]: d["username"] async for d in users.find({"_id": {"$regex": "^old-"}})}
            indexes = await users.index_information()
    finally:
        await mongo.close()
    assert names == {"old-0": "dana", "old-1": "DANA-2", "old-2": "Dana-3"}  # the oldest keeps the name
    assert "username_caseless" in indexes and "username_1" not in indexes


async def test_password_policy_messages(client: httpx.AsyncClient) -> None:
    resp = await client.post("/register", json={"email": "p@example.com", "username": "carol", "password": "short"})
    assert resp.status_code == 422
    messages = [d["message"] for d in resp.json()["error"]["details"]]
    assert all(d["field"] == "password" for d in resp.json()["error"]["details"])
    assert any("at least 10 characters" in m for m in messages)
    assert any("three of" in m for m in messages)
    contains = await client.post("/register", json={"email": "p@example.com", "username": "carol",
                                                    "password": "Carol-1234567"})
    assert "username" in contains.json()["error"]["message"]
    assert (await client.post("/login", json={"login": "carol", "password": "Carol-1234567"})).status_code == 401


async def test_bad_bodies_are_422_naming_fields(client: httpx.AsyncClient) -> None:
    cases = [
        ("/register", {"email": "nope", "username": "ok_name", "password": PASSWORD}, "email"),
        ("/register", {"email": "a@example.com", "username": "x", "password": PASSWORD}, "username"),
        ("/register", {"email": "a@example.com", "username": "okname", "password": PASSWORD, "admin": True},
         "admin"),
        ("/login", {"login": "someone"}, "password"),
        ("/password/forgot", {"email": 5}, "email"),
        ("/password/reset", {"token": "abcdefghij"}, "new_password"),
        ("/verify-email", {}, "token"),
    ]
    for path, body, field in cases:
        resp = await client.post(path, json=body)
        assert resp.status_code == 422, (path, resp.text)
        assert field in [d["field"] for d in resp.json()["error"]["details"]], (path, resp.json())
    count = await client.post("/login", json={"login": "root", "password": "Adm1n-Passw0rd!"})
    users = await client.get("/users", headers=bearer(count.json()))
    assert users.json()["total"] == 1  # no partial writes from the rejected sign-ups


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    await register(client, "dave")
    first = await login(client, "dave")
    second = (await client.post("/refresh", json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    client.cookies.clear()
    third = await client.post("/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    client.cookies.clear()
    reused = await client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "refresh_reused"
    latest = await client.post("/refresh", json={"refresh_token": third.json()["refresh_token"]})
    assert latest.status_code == 401  # the whole family is gone
    other_session = await login(client, "dave")  # a separate sign-in is untouched
    ok = await client.post("/refresh", json={"refresh_token": other_session["refresh_token"]})
    assert ok.status_code == 200


async def test_refresh_reuse_stops_the_familys_access_tokens_at_once(client: httpx.AsyncClient) -> None:
    """RFC 6819 5.2.2.3 / OAuth 2.1: a rotated refresh token presented again means someone else
    holds a copy; every access token of that sign-in stops now, not at its expiry."""
    await register(client, "stolen")
    first = await login(client, "stolen")
    client.cookies.clear()
    second = (await client.post("/refresh", json={"refresh_token": first["refresh_token"]})).json()
    client.cookies.clear()
    third = (await client.post("/refresh", json={"refresh_token": second["refresh_token"]})).json()
    client.cookies.clear()  # the family moved on: `first` coming back now is a reuse, not a race
    other = await login(client, "stolen")  # another sign-in of the same person
    for tokens in (first, second, third, other):
        assert (await client.get("/me", headers=bearer(tokens))).status_code == 200  # verified and cached
    reused = await client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "refresh_reused"
    client.cookies.clear()
    for tokens in (first, second, third):
        refused = await client.get("/me", headers=bearer(tokens))
        assert refused.status_code == 401 and "reused" in refused.json()["error"]["message"], refused.text
    assert (await client.get("/me", headers=bearer(other))).status_code == 200  # the other sign-in stays


async def test_two_tabs_refreshing_with_the_same_token_both_keep_the_session(client: httpx.AsyncClient) -> None:
    await register(client, "tabs")
    first = await login(client, "tabs")
    client.cookies.clear()
    one, two = await asyncio.gather(*(client.post("/refresh", json={"refresh_token": first["refresh_token"]})
                                      for _ in range(2)))
    assert (one.status_code, two.status_code) == (200, 200), (one.text, two.text)
    assert one.json()["refresh_token"] != two.json()["refresh_token"]
    for answer in (one, two):  # each tab goes on with its own pair
        client.cookies.clear()
        again = await client.post("/refresh", json={"refresh_token": answer.json()["refresh_token"]})
        assert again.status_code == 200, again.text
    client.cookies.clear()
    late = await client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert late.status_code == 401 and late.json()["error"]["code"] == "refresh_reused"  # its successors moved on


async def test_without_a_grace_any_second_use_revokes(settings: AuthSettings) -> None:
    strict = settings.model_copy(update={"refresh_reuse_grace": 0})
    async with lifespan_client(create_app(strict)) as client:
        await register(client, "strict")
        first = await login(client, "strict")
        client.cookies.clear()
        assert (await client.post("/refresh", json={"refresh_token": first["refresh_token"]})).status_code == 200
        client.cookies.clear()
        again = await client.post("/refresh", json={"refresh_token": first["refresh_token"]})
        assert again.status_code == 401 and again.json()["error"]["code"] == "refresh_reused"


async def test_sign_out_and_disabling_stop_access_tokens_at_once(client: httpx.AsyncClient) -> None:
    """Access tokens are verified locally and cached; auth's revocations reach the cache."""
    await register(client, "gone")
    tokens = await login(client, "gone")
    assert (await client.get("/me", headers=bearer(tokens))).status_code == 200  # verified and cached
    out = await client.post("/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer(tokens))
    assert out.status_code == 200
    client.cookies.clear()
    after = await client.get("/me", headers=bearer(tokens))
    assert after.status_code == 401 and "revoked" in after.json()["error"]["message"]

    other = await register(client, "disabled")
    theirs = await login(client, "disabled")
    assert (await client.get("/me", headers=bearer(theirs))).status_code == 200
    admin = await admin_headers(client)
    client.cookies.clear()
    assert (await client.patch(f"/users/{other['id']}", json={"active": False}, headers=admin)).status_code == 200
    refused = await client.get("/me", headers=bearer(theirs))
    assert refused.status_code == 401, refused.text
    assert (await client.get("/me", headers=admin)).status_code == 200  # nobody else is touched


async def test_logout_revokes_refresh_token(client: httpx.AsyncClient) -> None:
    await register(client, "erin")
    tokens = await login(client, "erin")
    out = await client.post("/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 200
    again = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "unauthorized"
    garbage = await client.post("/refresh", json={"refresh_token": "wrt_not-a-real-token"})
    assert garbage.status_code == 401


async def test_verify_email_with_mailed_token(client: httpx.AsyncClient) -> None:
    await register(client, "frank")
    mail = await mail_to(client, "frank@example.com")
    assert len(mail) == 1 and mail[0]["kind"] == "verify"
    ok = await client.post("/verify-email", json={"token": mail[0]["token"]})
    assert ok.status_code == 200 and ok.json()["verified"] is True
    again = await client.post("/verify-email", json={"token": mail[0]["token"]})
    assert again.status_code == 400
    by_link = await client.get("/verify-email", params={"token": mail[0]["token"]})
    assert by_link.status_code == 400  # the GET link form shares the single-use token


async def test_forgot_and_reset_password(client: httpx.AsyncClient) -> None:
    await register(client, "gina")
    old = await login(client, "gina")
    known = await client.post("/password/forgot", json={"email": "gina@example.com"})
    unknown = await client.post("/password/forgot", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert await mail_to(client, "nobody@example.com") == []
    mail = [m for m in await mail_to(client, "gina@example.com")
            if m["kind"] == "reset"]
    weak = await client.post("/password/reset", json={"token": mail[0]["token"], "new_password": "weak"})
    assert weak.status_code == 422 and weak.json()["error"]["details"][0]["field"] == "new_password"
    new_password = "Brand-New-Passw0rd"
    ok = await client.post("/password/reset", json={"token": mail[0]["token"], "new_password": new_password})
    assert ok.status_code == 200
    assert (await client.post("/password/reset", json={"token": mail[0]["token"],
                                                        "new_password": new_password})).status_code == 400
    assert (await client.post("/login", json={"login": "gina", "password": PASSWORD})).status_code == 401
    await login(client, "gina", new_password)
    assert (await client.post("/refresh", json={"refresh_token": old["refresh_token"]})).status_code == 401


async def test_change_password_needs_current(client: httpx.AsyncClient) -> None:
    await register(client, "hank")
    headers = bearer(await login(client, "hank"))
    wrong = await client.post("/me/password", headers=headers,
                              json={"current_password": "nope", "new_password": "An0ther-Passw0rd"})
    assert wrong.status_code == 400 and wrong.json()["error"]["details"]["field"] == "current_password"
    ok = await client.post("/me/password", headers=headers,
                           json={"current_password": PASSWORD, "new_password": "An0ther-Passw0rd"})
    assert ok.status_code == 200
    await login(client, "hank", "An0ther-Passw0rd")


async def test_expired_refresh_token_is_refused(client: httpx.AsyncClient, settings: Any) -> None:
    await register(client, "ian")
    tokens = await login(client, "ian")
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    await mongo[settings.mongo_db]["auth_refresh_tokens"].update_many(
        {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    await mongo.close()
    resp = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "unauthorized"


async def test_the_development_outbox_is_for_admins_in_development_only(webos_env: dict[str, str]) -> None:
    app = create_app(auth_settings())
    async with lifespan_client(app) as client:
        await register(client, "hank")
        _, someone = await user_headers(client)
        anonymous = await client.get("/dev/mail", params={"to": "hank@example.com"})
        ordinary = await client.get("/dev/mail", params={"to": "hank@example.com"}, headers=someone)
        assert (anonymous.status_code, ordinary.status_code) == (401, 403)
        assert [m["kind"] for m in await mail_to(client, "hank@example.com")] == ["verify"]
        admin = await admin_headers(client)
        app.state.auth.settings.env = "production"
        assert (await client.get("/dev/mail", headers=admin)).status_code == 404
