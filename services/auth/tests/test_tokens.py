"""Access tokens: what the verifier refuses, JWKS/discovery, key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from jose import jwk, jwt
from pymongo import MongoClient

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import admin_headers, auth_settings, bearer, login, register
from webos_common.security import TokenVerifier
from webos_common.security.jwks import StaticJWKS
from webos_common.testing import lifespan_client


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(settings: AuthSettings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "someone", "iss": settings.issuer, "aud": settings.jwt_audience, "iat": now, "nbf": now,
            "exp": now + 300, "typ": "access", "roles": ["superadmin"], "permissions": ["*"]}
    return {**base, **overrides}


async def test_tokens_carry_the_claims_the_verifier_checks(client: httpx.AsyncClient,
                                                           settings: AuthSettings) -> None:
    user = await register(client, "ivy")
    tokens = await login(client, "ivy")
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.get_unverified_claims(tokens["access_token"])
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert claims["sub"] == user["id"] and claims["typ"] == "access" and claims["roles"] == ["user"]
    assert claims["iss"] == settings.issuer and claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl
    assert all("d" not in k and "p" not in k for k in jwks["keys"])  # public halves only
    verifier = TokenVerifier(StaticJWKS(jwks), issuer=settings.issuer, audience=settings.jwt_audience)
    assert (await verifier.verify(tokens["access_token"])).id == user["id"]
    discovery = (await client.get("/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == settings.issuer and discovery["jwks_uri"].endswith("/.well-known/jwks.json")


async def test_discovery_names_urls_that_answer_behind_the_gateway(webos_env: dict[str, str]) -> None:
    """Behind the gateway auth lives under /api/auth: the discovery's URLs say so."""
    async with lifespan_client(create_app(auth_settings(public_url="https://webos.example.com/"))) as client:
        discovery = (await client.get("/.well-known/openid-configuration")).json()
    api = "https://webos.example.com/api/auth"
    assert discovery["issuer"] == api  # an issuer is the URL its discovery answers under
    assert discovery["jwks_uri"] == f"{api}/.well-known/jwks.json"
    assert discovery["token_endpoint"] == f"{api}/oauth/token"
    assert discovery["userinfo_endpoint"] == f"{api}/oauth/userinfo"
    assert discovery["authorization_endpoint"] == f"{api}/oauth/authorize"
    assert discovery["end_session_endpoint"] == f"{api}/oauth/end-session"


async def test_private_keys_are_encrypted_at_rest(client: httpx.AsyncClient, settings: AuthSettings) -> None:
    from pymongo import AsyncMongoClient

    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    doc = await mongo[settings.mongo_db]["auth_signing_keys"].find_one({})
    await mongo.close()
    assert doc is not None and "PRIVATE KEY" not in doc["private_key"]


async def _forged(client: httpx.AsyncClient, settings: AuthSettings, kind: str) -> str:
    c = client._transport.app.state.auth  # type: ignore[attr-defined]
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = jwks["keys"][0]["kid"]
    if kind == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(settings))}."
    if kind == "hs256_with_public_key":
        public_pem = jwk.construct(jwks["keys"][0], "RS256").public_key().to_pem()
        signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(settings))}"
        sig = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    if kind == "tampered":
        token = await c.keys.sign(_claims(settings, roles=["user"], permissions=[]))
        head, _, sig = token.split(".")
        return f"{head}.{_b64(_claims(settings))}.{sig}"
    if kind == "unknown_kid":
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return str(jwt.encode(_claims(settings), pem, algorithm="RS256", headers={"kid": "not-a-known-kid"}))
    overrides = {
        "expired": {"exp": int(time.time()) - 120, "iat": int(time.time()) - 500},
        "not_yet_valid": {"nbf": int(time.time()) + 600},
        "wrong_iss": {"iss": "someone-else"},
        "wrong_aud": {"aud": "another-app"},
        "refresh_typ": {"typ": "refresh"},
    }[kind]
    return await c.keys.sign(_claims(settings, **overrides))


@pytest.mark.parametrize("kind", ["alg_none", "hs256_with_public_key", "expired", "not_yet_valid", "wrong_iss",
                                  "wrong_aud", "tampered", "unknown_kid", "refresh_typ"])
async def test_rejected_tokens(client: httpx.AsyncClient, settings: AuthSettings, kind: str) -> None:
    token = await _forged(client, settings, kind)
    resp = await client.get("/users", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401, (kind, resp.text)
    assert resp.json()["error"]["code"] == "unauthorized"


async def test_a_properly_signed_token_is_accepted(client: httpx.AsyncClient, settings: AuthSettings) -> None:
    """The control for the rejections above: same helper, valid claims."""
    c = client._transport.app.state.auth  # type: ignore[attr-defined]
    token = await c.keys.sign(_claims(settings))
    resp = await client.get("/users", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200


async def test_key_rotation_keeps_old_tokens_valid(client: httpx.AsyncClient, settings: AuthSettings) -> None:
    await register(client, "jack")
    old = await login(client, "jack")
    admin = await admin_headers(client)
    old_kid = jwt.get_unverified_header(old["access_token"])["kid"]
    rotated = await client.post("/keys/rotate", headers=admin)
    assert rotated.status_code == 200 and rotated.json()["kid"] != old_kid
    new = await login(client, "jack")
    assert jwt.get_unverified_header(new["access_token"])["kid"] == rotated.json()["kid"]
    kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, rotated.json()["kid"]} <= kids
    assert (await client.get("/me", headers=bearer(old))).status_code == 200
    assert (await client.get("/me", headers=bearer(new))).status_code == 200
    plain = await client.post("/keys/rotate", headers=bearer(new))
    assert plain.status_code == 403


async def test_retired_key_leaves_jwks_after_its_tokens_expire(webos_env: dict[str, str]) -> None:
    settings = auth_settings(access_token_ttl=1)
    async with lifespan_client(create_app(settings)) as client:
        c = client._transport.app.state.auth  # type: ignore[attr-defined]
        first = (await client.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]
        await c.keys.rotate()
        assert first in {k["kid"] for k in (await c.keys.jwks())["keys"]}
        await c.keys.collection.update_one({"_id": first},
                                           {"$set": {"retired_at": datetime.now(UTC) - timedelta(minutes=5)}})
        await c.keys.load()
        assert first not in {k["kid"] for k in (await c.keys.jwks())["keys"]}


async def test_a_key_another_replica_made_is_published_within_a_second(webos_env: dict[str, str]) -> None:
    """Two replicas starting together may each make a key; each must publish the other's
    at once, or a token signed by one is refused by whoever fetched the JWKS from the other."""
    settings = auth_settings()
    async with lifespan_client(create_app(settings)) as one, lifespan_client(create_app(settings)) as two:
        other = two._transport.app.state.auth  # type: ignore[attr-defined]
        assert (await one.get("/.well-known/jwks.json")).status_code == 200  # loaded now, before the new key
        kid = await other.keys.rotate()
        time.sleep(1.1)
        assert kid in {k["kid"] for k in (await one.get("/.well-known/jwks.json")).json()["keys"]}


REPLICA = """
import asyncio, sys, time
from pymongo import AsyncMongoClient
from webos_auth.bootstrap import build
from webos_auth.testing import auth_settings

async def main():
    client = AsyncMongoClient(sys.argv[1], tz_aware=True)  # as the service reads times
    keys = build(auth_settings(), client[sys.argv[2]], None).keys
    await asyncio.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # every replica at one instant
    await keys.ensure()
    await client.close()

asyncio.run(main())
"""


def test_replicas_starting_together_make_one_signing_key(webos_env: dict[str, str]) -> None:
    """Each replica's first start creates the signing key when there is none: four processes
    started together made one each, and a service that had fetched the JWKS before the last one
    refused its tokens ("signed by an unknown key") until its next refetch. Now one generation
    is one key, whoever makes it."""
    at = time.time() + 4
    replicas = [subprocess.Popen([sys.executable, "-c", REPLICA, webos_env["WEBOS_MONGO_URL"],
                                  webos_env["WEBOS_MONGO_DB"], str(at)]) for _ in range(4)]
    assert [p.wait(timeout=60) for p in replicas] == [0, 0, 0, 0]
    with MongoClient(webos_env["WEBOS_MONGO_URL"]) as client:
        made = [k["generation"] for k in client[webos_env["WEBOS_MONGO_DB"]]["auth_signing_keys"].find()]
    assert made == [1]
