"""OIDC sign-in against a real provider started on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from webos_auth.main import create_app
from webos_auth.testing import admin_headers, auth_settings, declare
from webos_common.identity import PERSON_PERMISSIONS
from webos_common.testing import lifespan_client


@pytest.fixture
async def sso_client(webos_env: dict[str, str], oidc_provider: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = auth_settings(oidc_issuer=oidc_provider.url, oidc_client_id="webos-test",
                             oidc_client_secret="provider-secret-123", oidc_roles_claim="groups",
                             auth_url="http://test")
    async with lifespan_client(create_app(settings)) as client:
        yield client


async def _sign_in(client: httpx.AsyncClient, next_path: str = "/home") -> httpx.Response:
    start = await client.get("/sso/login", params={"next": next_path})
    assert start.status_code == 302
    async with httpx.AsyncClient() as browser:  # the browser visits the provider for real
        at_provider = await browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = urlparse(at_provider.headers["location"])
    return await client.get(f"{back.path}?{back.query}")


async def test_first_sign_in_creates_the_user_with_mapped_claims(sso_client: httpx.AsyncClient,
                                                                 oidc_provider: Any) -> None:
    admin = await admin_headers(sso_client)
    await declare(sso_client, admin, "inventory.read")
    await sso_client.post("/roles", headers=admin, json={"name": "clerk", "permissions": ["inventory.*"]})
    oidc_provider.next_claims = {"sub": "ext-42", "email": "wendy@corp.example.com", "email_verified": True,
                                 "preferred_username": "wendy", "name": "Wendy W.", "groups": ["clerk", "nope"]}
    done = await _sign_in(sso_client)
    assert done.status_code == 302 and done.headers["location"] == "/home"
    me = (await sso_client.get("/me")).json()  # signed in by the cookie
    assert me["username"] == "wendy" and me["email"] == "wendy@corp.example.com" and me["sso"] is True
    assert me["roles"] == ["clerk", "user"] and me["verified"] is True
    assert me["permissions"] == sorted(["inventory.*", *PERSON_PERMISSIONS])
    assert me["profile"]["display_name"] == "Wendy W."

    sso_client.cookies.clear()
    oidc_provider.next_claims = {**oidc_provider.next_claims, "groups": []}
    await _sign_in(sso_client)
    again = (await sso_client.get("/me")).json()
    assert again["id"] == me["id"] and again["roles"] == ["user"]  # roles follow the claim
    total = (await sso_client.get("/users", headers=admin, params={"q": "wendy"})).json()["total"]
    assert total == 1


async def test_open_redirect_and_replayed_state_are_refused(sso_client: httpx.AsyncClient,
                                                            oidc_provider: Any) -> None:
    oidc_provider.next_claims = {"sub": "ext-7", "email": "xena@corp.example.com", "email_verified": True}
    start = await sso_client.get("/sso/login", params={"next": "//evil.example.com/x"})
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(start.headers["location"])
    back = urlparse(at_provider.headers["location"])
    first = await sso_client.get(f"{back.path}?{back.query}")
    assert first.headers["location"] == "/"
    replay = await sso_client.get(f"{back.path}?{back.query}")
    assert replay.status_code == 400 and replay.json()["error"]["details"]["field"] == "state"
    state = parse_qs(back.query)["state"][0]
    assert (await sso_client.get("/sso/callback", params={"state": state})).status_code == 422


async def test_id_token_for_another_audience_is_refused(sso_client: httpx.AsyncClient, oidc_provider: Any) -> None:
    oidc_provider.next_claims = {"sub": "ext-9", "email": "yan@corp.example.com", "email_verified": True}
    oidc_provider.audience_override = "some-other-client"
    refused = await _sign_in(sso_client)
    assert refused.status_code == 401 and "ID token" in refused.json()["error"]["message"]


async def test_sso_disabled_without_configuration(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sso/config")).json() == {"enabled": False, "provider": None, "registration": "open"}
    assert (await client.get("/sso/login")).status_code == 404
