"""TokenVerifier: what it refuses, its cache, bounded JWKS refetch over real
HTTP, and API keys through an introspector."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from fastapi import FastAPI
from jose import jwk

from webos_common.http.errors import Unauthorized
from webos_common.security import HttpJWKS, HttpKeyIntrospector, TokenVerifier
from webos_common.security.jwks import StaticJWKS
from webos_common.security.testing import TestIssuer
from webos_common.testing import serve_app

ISSUER = TestIssuer()


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _alg_none() -> str:
    now = int(time.time())
    claims = {"sub": "a", "iss": "webos", "aud": "webos", "exp": now + 60, "typ": "access"}
    return f"{_b64({'alg': 'none', 'kid': ISSUER.kid})}.{_b64(claims)}."


def _hs256_with_public_key() -> str:
    now = int(time.time())
    claims = {"sub": "a", "iss": "webos", "aud": "webos", "exp": now + 60, "typ": "access"}
    head = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': ISSUER.kid})}.{_b64(claims)}"
    pem = jwk.construct(ISSUER.public_jwk, "RS256").public_key().to_pem()
    sig = base64.urlsafe_b64encode(hmac.new(pem, head.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    return f"{head}.{sig}"


@pytest.mark.parametrize("token", [
    _alg_none(),
    _hs256_with_public_key(),
    ISSUER.token("a", nbf=int(time.time()) + 600),
    ISSUER.token("a", iss="elsewhere"),
    ISSUER.token("a", aud="elsewhere"),
    ISSUER.token("a", typ="refresh"),
    ISSUER.token("a", typ=None),
    ISSUER.token("a", expires_in=-60),
], ids=["alg_none", "hs256_public_key", "not_yet_valid", "wrong_iss", "wrong_aud", "not_access", "no_typ", "expired"])
async def test_verifier_refuses(token: str) -> None:
    with pytest.raises(Unauthorized):
        await ISSUER.verifier().verify(token)


class CountingJWKS(StaticJWKS):
    def __init__(self, jwks: dict[str, Any]) -> None:
        super().__init__(jwks)
        self.calls = 0

    async def get_key(self, kid: str) -> dict[str, Any] | None:
        self.calls += 1
        return await super().get_key(kid)


async def test_repeated_tokens_are_served_from_the_cache() -> None:
    source = CountingJWKS(ISSUER.jwks)
    verifier = TokenVerifier(source, issuer="webos", audience="webos")
    token = ISSUER.token("alice", permissions=("tasks.read",))
    users = [await verifier.verify(token) for _ in range(50)]
    assert source.calls == 1 and {u.id for u in users} == {"alice"}
    assert users[0].has_permission("tasks.read") and not users[0].has_permission("tasks.write")


async def test_cache_entries_end_with_the_token() -> None:
    source = CountingJWKS(ISSUER.jwks)
    verifier = TokenVerifier(source, issuer="webos", audience="webos")
    token = ISSUER.token("bob")
    await verifier.verify(token)
    exp, user = verifier._cache[token]
    assert exp == pytest.approx(time.time() + 300, abs=5)
    verifier._cache[token] = (time.time() - 1, user)  # as if the token had reached its expiry
    await verifier.verify(token)
    assert source.calls == 2  # verified again rather than trusted from the cache


async def test_unknown_kid_refetches_jwks_at_most_once_per_interval() -> None:
    hits = {"n": 0}
    published: dict[str, Any] = {"keys": []}
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        hits["n"] += 1
        return published

    async with serve_app(app) as url:
        verifier = TokenVerifier(HttpJWKS(f"{url}/.well-known/jwks.json", min_refetch_interval=60),
                                 issuer="webos", audience="webos")
        for _ in range(5):
            with pytest.raises(Unauthorized, match="unknown key"):
                await verifier.verify(TestIssuer().token("x"))
        assert hits["n"] == 1  # bounded: one fetch for five unknown kids
        published["keys"] = [ISSUER.public_jwk]
        fresh = TokenVerifier(HttpJWKS(f"{url}/.well-known/jwks.json"), issuer="webos", audience="webos")
        assert (await fresh.verify(ISSUER.token("carol"))).id == "carol"


class StubIntrospector:
    """Answers like auth's /introspect for one known key."""

    def __init__(self) -> None:
        self.calls = 0
        self.active = True

    async def introspect(self, key: str) -> dict[str, Any] | None:
        self.calls += 1
        if key == "wos_k1_secret" and self.active:
            return {"active": True, "sub": "dana", "roles": [], "permissions": ["tasks.read"], "key_id": "k1",
                    "exp": int(time.time()) + 3600}
        return None


async def test_api_keys_are_introspected_and_cached_briefly() -> None:
    intro = StubIntrospector()
    verifier = TokenVerifier(StaticJWKS(ISSUER.jwks), issuer="webos", audience="webos", introspector=intro,
                             key_cache_ttl=60)
    user = await verifier.verify("wos_k1_secret")
    assert user.id == "dana" and user.extra == {"api_key": "k1"} and user.permissions == ("tasks.read",)
    await verifier.verify("wos_k1_secret")
    assert intro.calls == 1
    intro.active = False
    verifier.forget("wos_k1_secret")
    with pytest.raises(Unauthorized):
        await verifier.verify("wos_k1_secret")
    with pytest.raises(Unauthorized):
        await verifier.verify("wos_other_key")


async def test_keys_refused_without_an_introspector() -> None:
    with pytest.raises(Unauthorized, match="API keys"):
        await ISSUER.verifier().verify("wos_k1_secret")


def test_introspection_url_sits_next_to_the_jwks() -> None:
    direct = TokenVerifier(HttpJWKS("http://auth:8701/.well-known/jwks.json"), issuer="w", audience="w")
    gateway = TokenVerifier(HttpJWKS("http://gw/api/auth/.well-known/jwks.json"), issuer="w", audience="w")
    assert isinstance(direct.introspector, HttpKeyIntrospector)
    assert direct.introspector.url == "http://auth:8701/introspect"
    assert isinstance(gateway.introspector, HttpKeyIntrospector)
    assert gateway.introspector.url == "http://gw/api/auth/introspect"


async def test_a_service_accepts_the_peoples_audience_and_its_own_only() -> None:
    storage = ISSUER.verifier("storage")
    person = await storage.verify(ISSUER.token("ann"))
    service = await storage.verify(ISSUER.token("svc:tasks", aud="storage", principal="tasks", roles=("service",)))
    assert person.id == "ann" and service.extra == {"principal": "tasks"}
    with pytest.raises(Unauthorized, match="audience"):
        await ISSUER.verifier("settings").verify(ISSUER.token("svc:tasks", aud="storage"))
    with pytest.raises(Unauthorized, match="audience"):
        await storage.verify(ISSUER.token("a", aud=None))  # no audience fits none
    assert (await storage.verify(ISSUER.token("b", aud=["other", "storage"]))).id == "b"


async def test_bus_tokens_are_no_bearer_and_exchanged_tokens_name_their_actor() -> None:
    verifier = ISSUER.verifier("storage")
    with pytest.raises(Unauthorized, match="Not an access token"):
        await verifier.verify(ISSUER.token("ann", aud="storage", typ="bus"))
    bus = await verifier.claims(ISSUER.token("ann", aud="webos-bus", typ="bus"), typ="bus", audiences=["webos-bus"])
    assert bus["sub"] == "ann"
    acting = await verifier.verify(ISSUER.token("ann", aud="storage", azp="tasks", act={"sub": "svc:tasks"}))
    assert acting.id == "ann" and acting.extra == {"actor": "tasks"}
