"""TOTP secrets at rest: sealed with the platform's keyring, never stored in the clear; a secret
stored in the clear before encryption existed is sealed at the next start and still works; after
the key changes, auth re-seals under the new key while the old one is still named."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp
from pymongo import AsyncMongoClient

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import PASSWORD, user_headers
from webos_common.security.keyring import PREFIX
from webos_common.testing import lifespan_client


async def _stored(settings: AuthSettings, user_id: str) -> dict[str, Any]:
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    try:
        doc: dict[str, Any] | None = await mongo[settings.mongo_db]["auth_users"].find_one({"_id": user_id})
        assert doc is not None
        return doc
    finally:
        await mongo.close()


async def _set_raw(settings: AuthSettings, user_id: str, fields: dict[str, Any]) -> None:
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    try:
        await mongo[settings.mongo_db]["auth_users"].update_one({"_id": user_id}, {"$set": fields})
    finally:
        await mongo.close()


async def test_the_secret_is_sealed_from_set_up_on(client: httpx.AsyncClient, settings: AuthSettings) -> None:
    person, headers = await user_headers(client)
    setup = (await client.post("/me/2fa/setup", headers=headers)).json()
    pending = (await _stored(settings, person["id"]))["totp_pending"]
    assert pending.startswith(PREFIX) and setup["secret"] not in pending
    on = await client.post("/me/2fa/enable", headers=headers, json={"code": pyotp.TOTP(setup["secret"]).now()})
    assert on.status_code == 200, on.text
    sealed = (await _stored(settings, person["id"]))["totp"]["secret"]
    assert sealed.startswith(PREFIX) and setup["secret"] not in sealed


async def test_a_clear_secret_is_sealed_at_start_and_still_signs_in(client: httpx.AsyncClient,
                                                                    settings: AuthSettings) -> None:
    person, _ = await user_headers(client)
    secret = pyotp.random_base32()
    await _set_raw(settings, person["id"], {"totp": {"secret": secret, "last_step": 0, "recovery": []}})
    async with lifespan_client(create_app(settings)) as restarted:  # the migration runs at start
        stored = (await _stored(settings, person["id"]))["totp"]["secret"]
        assert stored.startswith(PREFIX) and secret not in stored
        ok = await restarted.post("/login", json={"login": person["username"], "password": PASSWORD,
                                                  "otp": pyotp.TOTP(secret).now()})
        assert ok.status_code == 200, ok.text


async def test_a_new_key_reseals_while_the_old_one_is_named(client: httpx.AsyncClient,
                                                            settings: AuthSettings) -> None:
    person, headers = await user_headers(client)
    setup = (await client.post("/me/2fa/setup", headers=headers)).json()
    await client.post("/me/2fa/enable", headers=headers, json={"code": pyotp.TOTP(setup["secret"]).now()})
    before = (await _stored(settings, person["id"]))["totp"]["secret"]
    old = settings.key_encryption_secret.get_secret_value()
    rotated = settings.model_copy(update={"key_encryption_secret": type(settings.key_encryption_secret)(
        "a-new-key-encryption-secret"), "old_key_encryption_secrets": type(settings.key_encryption_secret)(old)})
    async with lifespan_client(create_app(rotated)) as restarted:
        after = (await _stored(settings, person["id"]))["totp"]["secret"]
        assert after.startswith(PREFIX) and after.split(":")[2] != before.split(":")[2]  # another key id
        ok = await restarted.post("/login", json={"login": person["username"], "password": PASSWORD,
                                                  "otp": pyotp.TOTP(setup["secret"]).at(
                                                      int(time.time()) + 30)})
        assert ok.status_code == 200, ok.text


async def test_a_signing_key_sealed_by_an_earlier_version_is_resealed(client: httpx.AsyncClient,
                                                                      settings: AuthSettings) -> None:
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from webos_auth.adapters.mongo.keys import _legacy_fernet, _public_jwk

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    legacy = _legacy_fernet([settings.key_encryption_secret.get_secret_value()]).encrypt(pem).decode()
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    keys = mongo[settings.mongo_db]["auth_signing_keys"]
    try:
        await keys.insert_one({"_id": "legacykey", "created_at": datetime.now(UTC), "retired_at": None,
                               "private_key": legacy, "public_jwk": _public_jwk(public, "legacykey")})
        async with lifespan_client(create_app(settings)) as restarted:
            stored = await keys.find_one({"_id": "legacykey"})
            assert stored is not None and stored["private_key"].startswith(PREFIX)
            person, _ = await user_headers(restarted)  # signs a token with the re-sealed key
            assert person["id"]
    finally:
        await mongo.close()
