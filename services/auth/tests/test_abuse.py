"""Lockout per account, limit per client address, unlock, disabled accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from webos_auth.main import create_app
from webos_auth.testing import PASSWORD, admin_headers, auth_settings, login, register
from webos_common.testing import lifespan_client


async def _fail(client: httpx.AsyncClient, who: str, times: int) -> list[httpx.Response]:
    return [await client.post("/login", json={"login": who, "password": "Wrong-passw0rd!"}) for _ in range(times)]


async def test_lockout_after_repeated_failures_then_admin_unlock(client: httpx.AsyncClient) -> None:
    user = await register(client, "kate")
    failures = await _fail(client, "kate", 5)
    assert [r.status_code for r in failures] == [401] * 5
    locked = await client.post("/login", json={"login": "kate@example.com", "password": PASSWORD})
    assert locked.status_code == 429
    error = locked.json()["error"]
    assert error["code"] == "account_locked" and "try again in" in error["message"]
    assert 0 < int(locked.headers["Retry-After"]) <= 900 and error["details"]["retry_after"] > 0
    admin = await admin_headers(client)
    assert (await client.get(f"/users/{user['id']}", headers=admin)).json()["locked_until"] is not None
    other = await register(client)
    other_login = await client.post("/login", json={"login": other["username"], "password": PASSWORD})
    assert other_login.status_code == 200  # one locked account does not lock the others
    assert (await client.post(f"/users/{user['id']}/unlock", headers=admin)).status_code == 200
    await login(client, "kate")


async def test_unknown_accounts_answer_like_known_ones(client: httpx.AsyncClient) -> None:
    await register(client, "liam")
    known = await client.post("/login", json={"login": "liam", "password": "Wrong-passw0rd!"})
    unknown = await client.post("/login", json={"login": "nobody-here", "password": "Wrong-passw0rd!"})
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()


async def test_limit_per_client_address(webos_env: dict[str, str]) -> None:
    settings = auth_settings(login_ip_max_failures=3, login_max_failures=100)
    async with lifespan_client(create_app(settings)) as client:
        await register(client, "mia")
        for name in ("a1", "a2", "a3"):  # different accounts, same address
            assert (await client.post("/login", json={"login": name, "password": "x"})).status_code == 401
        limited = await client.post("/login", json={"login": "mia", "password": PASSWORD})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) > 0


async def test_successful_login_resets_the_failure_count(client: httpx.AsyncClient) -> None:
    await register(client, "noah")
    await _fail(client, "noah", 4)
    await login(client, "noah")
    assert [r.status_code for r in await _fail(client, "noah", 4)] == [401] * 4
    await login(client, "noah")


async def test_disabled_account_cannot_sign_in(client: httpx.AsyncClient) -> None:
    user = await register(client, "olga")
    tokens = await login(client, "olga")
    admin = await admin_headers(client)
    assert (await client.patch(f"/users/{user['id']}", headers=admin, json={"active": False})).status_code == 200
    resp = await client.post("/login", json={"login": "olga", "password": PASSWORD})
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "account_disabled"
    assert (await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})).status_code == 401


def test_placeholder_admin_password_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    from webos_auth.settings import AuthSettings

    monkeypatch.setenv("WEBOS_ENV", "production")
    monkeypatch.setenv("WEBOS_KEY_ENCRYPTION_SECRET", "a-long-random-secret-value-123")
    with pytest.raises(ValueError, match="WEBOS_ADMIN_PASSWORD"):
        AuthSettings()
    monkeypatch.setenv("WEBOS_ADMIN_PASSWORD", "A-real-0ne-for-prod")
    assert AuthSettings().admin_password.get_secret_value() == "A-real-0ne-for-prod"


async def test_lock_ends_by_itself(client: httpx.AsyncClient, settings: Any) -> None:
    await register(client, "pia")
    await _fail(client, "pia", 5)
    assert (await client.post("/login", json={"login": "pia", "password": PASSWORD})).status_code == 429
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    locks = mongo[settings.mongo_db]["auth_login_locks"]
    await locks.update_many({}, {"$set": {"until": datetime.now(UTC) - timedelta(seconds=1)}})  # time passes
    await mongo.close()
    await login(client, "pia")


async def test_two_auth_replicas_share_the_lockout_and_the_address_limit(webos_env: dict[str, str]) -> None:
    """Failures are counted in MongoDB: spread over two replicas they add up to one lockout."""
    settings = auth_settings(login_ip_max_failures=6, login_max_failures=3)
    async with lifespan_client(create_app(settings)) as one, lifespan_client(create_app(settings)) as two:
        await register(one, "olga")
        codes = [(await replica.post("/login", json={"login": "olga", "password": "Wrong-passw0rd!"})).status_code
                 for replica in (one, two, one)]
        assert codes == [401, 401, 401]
        for replica in (two, one):  # locked on both, right password or not
            locked = await replica.post("/login", json={"login": "olga", "password": PASSWORD})
            assert locked.status_code == 429 and locked.json()["error"]["code"] == "account_locked"
        for i, replica in enumerate((two, one, two)):  # other accounts, same address: 6 failures in all
            assert (await replica.post("/login", json={"login": f"b{i}", "password": "x"})).status_code == 401
        await register(two, "pia")
        limited = await one.post("/login", json={"login": "pia", "password": PASSWORD})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
