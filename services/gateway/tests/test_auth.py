"""Tokens are checked once at the edge; the credential and identity travel on."""

from __future__ import annotations

from typing import Any

import httpx

from webos_common.security.testing import TestIssuer

Rig = Any  # the `rig` fixture (conftest.py)


async def test_missing_expired_tampered_and_foreign_tokens_are_401(rig: Rig) -> None:
    good = rig.issuer.token("alice")
    head, payload, signature = good.split(".")
    tampered = ".".join([head, payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB"), signature])
    cases = {
        "missing": {},
        "expired": {"Authorization": f"Bearer {rig.issuer.token('alice', expires_in=-60)}"},
        "tampered": {"Authorization": f"Bearer {tampered}"},
        "foreign key": TestIssuer().headers("alice"),
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "expired cookie": {"Cookie": f"access_token={rig.issuer.token('alice', expires_in=-60)}"},
    }
    async with httpx.AsyncClient(base_url=rig.url) as client:
        for case, headers in cases.items():
            resp = await client.get("/api/storage/files", headers=headers)
            assert resp.status_code == 401, case
            assert resp.json()["error"]["code"] == "unauthorized", case
            assert resp.headers["www-authenticate"].startswith("Bearer"), case


async def test_valid_token_reaches_the_service_with_the_same_user(rig: Rig) -> None:
    headers = rig.issuer.headers("alice", roles=("editor",), permissions=("tasks.read",))
    async with httpx.AsyncClient(base_url=rig.url) as client:
        resp = await client.get("/api/events/x", headers={**headers, "webos-user-id": "mallory",
                                                            "webos-user": '{"id":"mallory"}'})
        cookie = await client.get("/api/events/x", headers={"Cookie": f"access_token={rig.issuer.token('bob')}"})
    assert resp.status_code == 200
    seen = resp.json()["headers"]
    assert seen["authorization"] == headers["Authorization"]  # services verify on their own
    assert "webos-user-id" not in seen and "webos-user" not in seen  # a client's claim never passes
    assert cookie.status_code == 200  # the cookie, which the service verifies, is passed on
    assert cookie.json()["headers"]["cookie"].startswith("access_token=")


async def test_public_routes_pass_without_a_token(rig: Rig) -> None:
    await rig.start_module("shop", public=("/api/shop/public", "/open"))
    async with httpx.AsyncClient(base_url=rig.url) as client:
        for path in ("/api/auth/login", "/api/auth/password/reset", "/api/auth/.well-known/jwks.json"):
            resp = await client.post(path, json={})
            assert resp.status_code == 200, path
            assert "authorization" not in resp.json()["headers"]
        stale = await client.post("/api/auth/login", headers={"Authorization": "Bearer stale"})
        assert stale.status_code == 200  # a bad token on a public route is ignored, not fatal
        assert (await client.get("/api/auth/me")).status_code == 401
        assert (await client.get("/api/storage/shares/signed-token")).status_code == 200  # a share link
        assert (await client.get("/api/storage/files")).status_code == 401
        public = await _eventually(client, "/api/shop/public/catalog")
        assert public.status_code == 200
        assert (await client.get("/api/shop/open/x")).status_code == 200  # relative prefix
        assert (await client.get("/api/shop/orders")).status_code == 401


async def _eventually(client: httpx.AsyncClient, path: str) -> httpx.Response:
    import asyncio
    import time

    give_up = time.monotonic() + 5
    while True:
        resp = await client.get(path)
        if resp.status_code == 200 or time.monotonic() > give_up:
            return resp
        await asyncio.sleep(0.05)


class _Keys:
    """Auth's introspection answer for one known API key (the verifier's port)."""

    async def introspect(self, key: str) -> dict[str, Any] | None:
        return {"active": True, "sub": "robot", "roles": ["user"], "key_id": "k1"} if key == "wos_good" else None


async def test_api_keys_are_checked_through_the_verifier(rig: Rig) -> None:
    from webos_common.security import StaticJWKS, TokenVerifier

    rig.app.state.resources.verifier = TokenVerifier(
        StaticJWKS(rig.issuer.jwks), issuer=rig.issuer.issuer, audience=rig.issuer.audience, introspector=_Keys())
    async with httpx.AsyncClient(base_url=rig.url) as client:
        good = await client.get("/api/storage/x", headers={"Authorization": "Bearer wos_good"})
        bad = await client.get("/api/storage/x", headers={"Authorization": "Bearer wos_revoked"})
    assert good.status_code == 200
    assert good.json()["headers"]["authorization"] == "Bearer wos_good"
    assert bad.status_code == 401
