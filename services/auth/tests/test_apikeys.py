"""API keys: shown once, hashed at rest, scoped, expiring, revocable, usable
as bearer credentials in auth and — through introspection — in any other
service built on webos_common."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Depends
from pymongo import AsyncMongoClient

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import admin_headers, auth_settings, bearer, declare, login, register, user_headers
from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.security import CurrentUser, require_permission
from webos_common.testing import lifespan_client, serve_app


async def _clerk(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, str]]:
    admin = await admin_headers(client)
    await declare(client, admin, "inventory.read", "inventory.write", "tasks.read")
    await client.post("/roles", headers=admin, json={"name": "clerk", "permissions": ["inventory.*", "tasks.read"]})
    user = await register(client)
    await client.patch(f"/users/{user['id']}", headers=admin, json={"roles": ["user", "clerk"]})
    return user, bearer(await login(client, user["username"]))


async def test_key_is_shown_once_hashed_at_rest_and_scoped(client: httpx.AsyncClient,
                                                           settings: AuthSettings) -> None:
    user, headers = await _clerk(client)
    created = await client.post("/me/api-keys", headers=headers,
                                json={"name": "ci", "permissions": ["inventory.read"], "expires_in_days": 30})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("wos_")
    listed = (await client.get("/me/api-keys", headers=headers)).json()
    assert len(listed) == 1 and "key" not in listed[0] and listed[0]["permissions"] == ["inventory.read"]
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    stored = await mongo[settings.mongo_db]["auth_api_keys"].find_one({})
    await mongo.close()
    assert stored is not None and key.split("_", 2)[2] not in str(stored)
    me = (await client.get("/me", headers={"Authorization": f"Bearer {key}"})).json()
    assert me["id"] == user["id"] and me["via_api_key"] is True
    assert me["permissions"] == ["inventory.read"]
    too_wide = await client.post("/me/api-keys", headers=headers, json={"name": "x", "permissions": ["tasks.*"]})
    assert too_wide.status_code == 403 and too_wide.json()["error"]["details"]["not_granted"] == ["tasks.*"]
    star = await client.post("/me/api-keys", headers=headers, json={"name": "x", "permissions": ["*"]})
    assert star.status_code == 403
    empty = await client.post("/me/api-keys", headers=headers, json={"name": "x", "permissions": []})
    assert empty.status_code == 422 and empty.json()["error"]["details"][0]["field"] == "permissions"


async def test_key_cannot_mint_keys_or_reach_beyond_its_scope(client: httpx.AsyncClient) -> None:
    _, headers = await _clerk(client)
    key = (await client.post("/me/api-keys", headers=headers,
                             json={"name": "ci", "permissions": ["tasks.read"]})).json()["key"]
    as_key = {"Authorization": f"Bearer {key}"}
    assert (await client.post("/me/api-keys", headers=as_key,
                              json={"name": "more", "permissions": ["tasks.read"]})).status_code == 403
    assert (await client.post("/me/password", headers=as_key,
                              json={"current_password": "x", "new_password": "y"})).status_code == 403
    assert (await client.get("/users", headers=as_key)).status_code == 403


async def test_revoked_and_expired_keys_stop_working(client: httpx.AsyncClient, settings: AuthSettings) -> None:
    _, headers = await _clerk(client)
    first = (await client.post("/me/api-keys", headers=headers,
                               json={"name": "a", "permissions": ["tasks.read"]})).json()
    second = (await client.post("/me/api-keys", headers=headers,
                                json={"name": "b", "permissions": ["tasks.read"]})).json()
    assert (await client.delete(f"/me/api-keys/{first['id']}", headers=headers)).status_code == 200
    assert (await client.get("/me", headers={"Authorization": f"Bearer {first['key']}"})).status_code == 401
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    await mongo[settings.mongo_db]["auth_api_keys"].update_one(
        {"_id": second["id"]}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    await mongo.close()
    assert (await client.get("/me", headers={"Authorization": f"Bearer {second['key']}"})).status_code == 401
    forged = second["key"][:-3] + "xyz"
    assert (await client.post("/introspect", json={"token": forged})).json() == {"active": False}


async def test_keys_of_another_user_are_out_of_reach(client: httpx.AsyncClient) -> None:
    _, alice = await _clerk(client)
    _, bob = await user_headers(client)
    key = (await client.post("/me/api-keys", headers=alice, json={"name": "a", "permissions": ["tasks.read"]})).json()
    assert (await client.get("/me/api-keys", headers=bob)).json() == []
    assert (await client.delete(f"/me/api-keys/{key['id']}", headers=bob)).status_code == 404
    assert (await client.get("/me", headers={"Authorization": f"Bearer {key['key']}"})).status_code == 200


async def test_key_scope_follows_the_owner_and_dies_with_the_owner(client: httpx.AsyncClient) -> None:
    user, headers = await _clerk(client)
    key = (await client.post("/me/api-keys", headers=headers,
                             json={"name": "a", "permissions": ["inventory.read", "tasks.read"]})).json()["key"]
    admin = await admin_headers(client)
    await client.patch("/roles/clerk", headers=admin, json={"permissions": ["tasks.read"]})
    info = (await client.post("/introspect", json={"token": key})).json()
    assert info["active"] is True and info["permissions"] == ["tasks.read"] and info["roles"] == []
    await client.delete(f"/users/{user['id']}", headers=admin)
    assert (await client.post("/introspect", json={"token": key})).json() == {"active": False}


async def test_another_service_accepts_keys_and_tokens_over_http(webos_env: dict[str, str]) -> None:
    """A service built with create_service_app, pointed at a real auth on
    loopback, accepts both JWTs (JWKS) and API keys (introspection)."""
    router = APIRouter()

    @router.get("/stock", dependencies=[Depends(require_permission("inventory.read"))])
    async def stock(user: CurrentUser) -> dict[str, str]:
        return {"user": user.id}

    async with serve_app(create_app(auth_settings())) as auth_url:
        async with httpx.AsyncClient(base_url=auth_url) as auth:
            user, headers = await _clerk(auth)
            key = (await auth.post("/me/api-keys", headers=headers,
                                   json={"name": "ci", "permissions": ["inventory.read"]})).json()["key"]
            narrow = (await auth.post("/me/api-keys", headers=headers,
                                      json={"name": "t", "permissions": ["tasks.read"]})).json()["key"]
        other = create_service_app("inventory", settings=WebOSSettings(auth_url=auth_url), use_mongo=False,
                                   use_nats=False, routers=[router])
        async with lifespan_client(other) as client:
            by_key = await client.get("/stock", headers={"Authorization": f"Bearer {key}"})
            by_token = await client.get("/stock", headers=headers)
            by_narrow_key = await client.get("/stock", headers={"Authorization": f"Bearer {narrow}"})
            by_bad_key = await client.get("/stock", headers={"Authorization": "Bearer wos_nope_nope"})
    assert by_key.status_code == 200 and by_key.json() == {"user": user["id"]}
    assert by_token.status_code == 200
    assert by_narrow_key.status_code == 403
    assert by_bad_key.status_code == 401
