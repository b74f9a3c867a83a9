"""The edge's browser policy: security headers once on every answer, CSRF
refused for cookie-authenticated state changes and WebSockets, forwarded
headers believed from trusted proxies only."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import websockets

Rig = Any  # the `rig` fixture (conftest.py)
EVIL = "https://evil.example"
POLICY = ("x-content-type-options", "referrer-policy", "x-frame-options", "content-security-policy")


def _once(resp: httpx.Response, *names: str) -> None:
    for name in names:
        assert len(resp.headers.get_list(name)) == 1, name


async def test_every_answer_carries_the_policy_headers_once(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        api = await client.get("/api/settings/x", headers=rig.issuer.headers("alice"))
        shell = await client.get("/")
        refused = await client.get("/api/settings/x")
        own = await client.get("/healthz")
        docs = await client.get("/api/docs")
    for resp in (api, shell, refused, own, docs):
        _once(resp, *POLICY, "x-request-id", "traceparent")
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert "strict-transport-security" not in resp.headers  # plain HTTP
    assert refused.status_code == 401
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert "script-src 'self'" in shell.headers["content-security-policy"]
    assert "script-src 'self'" in docs.headers["content-security-policy"]


async def test_hsts_when_a_trusted_proxy_says_https(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        resp = await client.get("/api/settings/x", headers={**rig.issuer.headers("alice"),
                                                            "x-forwarded-proto": "https"})
    _once(resp, "strict-transport-security")
    assert resp.json()["headers"]["x-forwarded-proto"] == "https"


async def test_cookie_authenticated_state_change_must_come_from_this_origin(rig: Rig) -> None:
    cookie = {"Cookie": f"access_token={rig.issuer.token('alice')}"}
    async with httpx.AsyncClient(base_url=rig.url) as client:
        foreign = await client.post("/api/storage/files/upload", headers={**cookie, "Origin": EVIL})
        sneaky = await client.post("/api/auth/logout", headers={**cookie, "Sec-Fetch-Site": "cross-site"})
        null = await client.post("/api/events/x", headers={**cookie, "Origin": "null"})
        own = await client.post("/api/events/x", headers={**cookie, "Origin": rig.url})
        same = await client.post("/api/events/x", headers={**cookie, "Sec-Fetch-Site": "same-origin"})
        read = await client.get("/api/events/x", headers={**cookie, "Origin": EVIL})
        bearer = await client.post("/api/events/x", headers={**rig.issuer.headers("alice"), "Origin": EVIL})
    for resp in (foreign, sneaky, null):
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == "cross_site_refused"
        _once(resp, *POLICY)
    assert foreign.json()["error"]["details"]["origin"] == EVIL
    assert [own.status_code, same.status_code, read.status_code, bearer.status_code] == [200] * 4


@pytest.mark.parametrize("rig", [{"trusted_origins": ["https://intranet.example"]}], indirect=True)
async def test_configured_origins_may_post_with_cookies(rig: Rig) -> None:
    cookie = {"Cookie": f"access_token={rig.issuer.token('alice')}"}
    async with httpx.AsyncClient(base_url=rig.url) as client:
        ok = await client.post("/api/events/x", headers={**cookie, "Origin": "https://intranet.example"})
        bad = await client.post("/api/events/x", headers={**cookie, "Origin": EVIL})
    assert (ok.status_code, bad.status_code) == (200, 403)


async def test_websocket_upgrade_from_a_foreign_origin_is_refused(rig: Rig) -> None:
    ws_url = rig.url.replace("http", "ws") + "/api/events/ws"
    cookie = {"Cookie": f"access_token={rig.issuer.token('bob')}"}
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websockets.connect(ws_url, additional_headers=cookie, origin=EVIL):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(ws_url, additional_headers=cookie, origin=rig.url) as ws:  # type: ignore[arg-type]
        await ws.send("hi")
        assert await ws.recv() == "bob:hi"


@pytest.mark.parametrize("rig", [{"trusted_proxies": [], "rate_limit_user": "2/minute"}], indirect=True)
async def test_forwarded_for_from_an_untrusted_peer_is_ignored(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        codes = []
        for i in range(3):
            resp = await client.get("/api/auth/login", headers={"x-forwarded-for": f"10.9.9.{i}"})
            codes.append(resp.status_code)
            if i == 0:
                assert resp.json()["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert codes == [200, 200, 429]  # one bucket: the real peer's


@pytest.mark.parametrize("rig", [{"trusted_proxies": ["127.0.0.1"], "rate_limit_user": "2/minute"}],
                         indirect=True)
async def test_a_trusted_proxy_names_the_client(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        seen = [await client.get("/api/auth/login", headers={"x-forwarded-for": f"192.0.2.7, 10.9.9.{i}"})
                for i in range(3)]
    assert [r.status_code for r in seen] == [200, 200, 200]  # a bucket per real client
    assert seen[1].json()["headers"]["x-forwarded-for"] == "10.9.9.1"  # the nearest untrusted hop, alone


async def test_only_a_modules_views_may_be_framed_and_only_by_this_origin(rig: Rig) -> None:
    """The shell frames `/api/<module>/ui/<view>`: those answers allow `frame-ancestors 'self'`
    (and `SAMEORIGIN`); the module's API and everything else still refuse every framer."""
    await rig.start_module("gallery")
    async with httpx.AsyncClient(base_url=rig.url, headers=rig.issuer.headers("alice")) as client:
        for _ in range(50):
            view = await client.get("/api/gallery/ui/wall")
            if view.status_code == 200:
                break
            await asyncio.sleep(0.1)
        api = await client.get("/api/gallery/ui-not-a-view")
        prefix_only = await client.get("/api/gallery/ui")
    assert view.status_code == 200, view.text
    _once(view, *POLICY)
    assert view.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in view.headers["content-security-policy"]
    assert "frame-ancestors 'none'" not in view.headers["content-security-policy"]
    for resp in (api, prefix_only):
        assert resp.status_code == 200
        assert resp.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
