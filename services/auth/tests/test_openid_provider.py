"""The OpenID Provider across replicas: two auth apps on one MongoDB, as the project runs them.
A flow started on one (authorize, consent) is finished on the other (token), refreshed back on
the first, and a code redeemed on one is refused on the other. The relying party is authlib's
own async client; the full journey through the gateway is tests/e2e/test_openid_provider.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import FastAPI
from jose import jwt

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import admin_headers, bearer, login, register

CALLBACK = "https://rp.example/cb"


@pytest.fixture
async def replicas(settings: AuthSettings) -> AsyncIterator[list[FastAPI]]:
    apps = [create_app(settings), create_app(settings)]
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield apps


def _api(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8701")


def _client(app: FastAPI, **options: Any) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8701", **options)


async def _app_and_person(api: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, str]]:
    made = await api.post("/oauth/clients", headers=await admin_headers(api), json={
        "name": "Wiki", "redirect_uris": [CALLBACK], "scopes": ["openid", "email"]})
    assert made.status_code == 201, made.text
    person = await register(api)
    return made.json(), bearer(await login(api, person["username"]))


async def test_a_flow_started_on_one_replica_finishes_on_another(replicas: list[FastAPI]) -> None:
    first, second = replicas
    async with _api(first) as api_a, _api(second) as api_b:
        app, person = await _app_and_person(api_a)
        rp = _client(second, client_id=app["client_id"], client_secret=app["client_secret"], scope="openid email",
                     redirect_uri=CALLBACK, code_challenge_method="S256")
        verifier = generate_token(48)
        url, _ = rp.create_authorization_url("http://127.0.0.1:8701/oauth/authorize", code_verifier=verifier)
        landed = await api_a.get(url)
        assert landed.status_code == 302 and "/oauth/consent?" in landed.headers["location"]
        query = urlsplit(landed.headers["location"]).query
        back = (await api_a.post(f"/oauth/consent?{query}", json={"allow": True}, headers=person)).json()
        async with rp:
            token = await rp.fetch_token("/oauth/token", authorization_response=back["redirect_to"],
                                         code_verifier=verifier)
        assert token["id_token"] and token["scope"] == "openid email"
        rp_a = _client(first, client_id=app["client_id"], client_secret=app["client_secret"], token=token)
        async with rp_a:
            renewed = await rp_a.refresh_token("/oauth/token")
        assert renewed["access_token"] != token["access_token"]
        app_bearer = {"Authorization": f"Bearer {renewed['access_token']}"}
        info = await api_b.get("/oauth/userinfo", headers=app_bearer)
        assert info.status_code == 200 and "email" in info.json() and "preferred_username" not in info.json()

        again = _client(first, client_id=app["client_id"], client_secret=app["client_secret"])
        with pytest.raises(OAuthError, match="invalid_grant"):  # the code is spent on every replica
            await again.fetch_token("/oauth/token", authorization_response=back["redirect_to"],
                                    code_verifier=verifier, redirect_uri=CALLBACK)
        # and presenting it again revoked what it bought, refreshed descendants included
        assert (await api_b.get("/oauth/userinfo", headers=app_bearer)).status_code == 401


async def test_a_refresh_token_used_twice_ends_the_lineage(replicas: list[FastAPI]) -> None:
    async with _api(replicas[0]) as api:
        app, person = await _app_and_person(api)
        signed_in_at = time.time()  # _app_and_person signed the person in just now
        await asyncio.sleep(1.5)  # so the consent's own time differs from the sign-in's
        rp = _client(replicas[1], client_id=app["client_id"], client_secret=app["client_secret"], scope="openid",
                     redirect_uri=CALLBACK, code_challenge_method="S256")
        verifier = generate_token(48)
        url, _ = rp.create_authorization_url("http://127.0.0.1:8701/oauth/authorize", code_verifier=verifier)
        query = urlsplit((await api.get(url)).headers["location"]).query
        back = (await api.post(f"/oauth/consent?{query}", json={"allow": True}, headers=person)).json()
        async with rp:
            first = await rp.fetch_token("/oauth/token", authorization_response=back["redirect_to"],
                                         code_verifier=verifier)
            current = await rp.refresh_token("/oauth/token")
            with pytest.raises(OAuthError, match="invalid_grant"):
                await rp.refresh_token("/oauth/token", refresh_token=first["refresh_token"])
            with pytest.raises(OAuthError, match="invalid_grant"):
                await rp.refresh_token("/oauth/token", refresh_token=current["refresh_token"])
    claims = jwt.get_unverified_claims(first["id_token"])
    assert signed_in_at - 5 <= claims["auth_time"] <= signed_in_at  # the WebOS sign-in's time, not the consent's


async def test_admins_only_register_apps_and_bad_fields_are_named(replicas: list[FastAPI]) -> None:
    async with _api(replicas[0]) as api:
        person = bearer(await login(api, (await register(api))["username"]))
        body = {"name": "Wiki", "redirect_uris": [CALLBACK]}
        assert (await api.post("/oauth/clients", json=body, headers=person)).status_code == 403
        bad = await api.post("/oauth/clients", headers=await admin_headers(api), json={
            "name": "Wiki", "redirect_uris": ["https://rp.example/cb#frag"], "scopes": ["root"]})
        assert bad.status_code == 422
        fields = {d["field"] for d in bad.json()["error"]["details"]}
        assert any("redirect_uris" in f for f in fields) and any("scopes" in f for f in fields)
        made = await api.post("/oauth/clients", json=body, headers=await admin_headers(api))
        gone = await api.delete(f"/oauth/clients/{made.json()['client_id']}", headers=await admin_headers(api))
        assert gone.status_code == 204
        trail = (await api.get("/audit", headers=await admin_headers(api))).json()["items"]
        assert [e["action"] for e in trail[:2]] == ["oauth_client.removed", "oauth_client.registered"]
