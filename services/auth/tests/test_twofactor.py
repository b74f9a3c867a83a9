"""Two-factor sign-in: TOTP set up from My account, a code at sign-in (a wrong or replayed
one refused), single-use recovery codes, and a role that requires it."""

from __future__ import annotations

import time

import httpx
import pyotp

from webos_auth.testing import PASSWORD, admin_headers, bearer, declare, login, register, user_headers


async def _enable(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    setup = (await client.post("/me/2fa/setup", headers=headers)).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and "WebOS" in setup["otpauth_uri"]
    wrong = await client.post("/me/2fa/enable", headers=headers, json={"code": "000000"})
    assert wrong.status_code == 400 and wrong.json()["error"]["details"]["field"] == "code"
    on = await client.post("/me/2fa/enable", headers=headers, json={"code": pyotp.TOTP(setup["secret"]).now()})
    assert on.status_code == 200
    return setup["secret"], on.json()["recovery_codes"]


def _next_code(secret: str) -> str:
    """A code of the next time step (the current one was spent enabling)."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


async def test_totp_set_up_then_asked_at_sign_in(client: httpx.AsyncClient) -> None:
    person, headers = await user_headers(client)
    secret, codes = await _enable(client, headers)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await client.get("/me", headers=headers)).json()["two_factor"] is True
    who = {"login": person["username"], "password": PASSWORD}
    asked = await client.post("/login", json=who)
    assert asked.status_code == 401 and asked.json()["error"]["code"] == "otp_required"
    wrong = await client.post("/login", json={**who, "otp": "123456"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "otp_invalid"
    code = _next_code(secret)
    ok = await client.post("/login", json={**who, "otp": code})
    assert ok.status_code == 200 and ok.json()["user"]["two_factor"] is True
    replay = await client.post("/login", json={**who, "otp": code})
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "otp_invalid"
    bad_password = await client.post("/login", json={**who, "password": "Wrong-Passw0rd!", "otp": code})
    assert bad_password.status_code == 401 and bad_password.json()["error"]["code"] == "invalid_credentials"


async def test_a_recovery_code_works_once_and_can_be_renewed(client: httpx.AsyncClient) -> None:
    person, headers = await user_headers(client)
    secret, codes = await _enable(client, headers)
    who = {"login": person["username"], "password": PASSWORD}
    first = await client.post("/login", json={**who, "otp": codes[0]})
    assert first.status_code == 200
    again = await client.post("/login", json={**who, "otp": codes[0]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "otp_invalid"
    session = bearer(first.json())
    renewed = await client.post("/me/2fa/recovery-codes", headers=session, json={"code": _next_code(secret)})
    assert renewed.status_code == 200
    old = await client.post("/login", json={**who, "otp": codes[1]})
    assert old.status_code == 401  # the old set stopped working
    assert (await client.post("/login", json={**who, "otp": renewed.json()["recovery_codes"][0]})).status_code == 200
    off_wrong = await client.post("/me/2fa/disable", headers=session, json={"password": "Nope-Nope-123"})
    assert off_wrong.status_code == 400
    assert (await client.post("/me/2fa/disable", headers=session, json={"password": PASSWORD})).status_code == 200
    assert (await client.post("/login", json=who)).status_code == 200


async def test_a_role_that_requires_two_factor_grants_nothing_until_it_is_set_up(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    await declare(client, admin, "ledger.read")
    made = await client.post("/roles", headers=admin, json={"name": "treasurer", "permissions": ["ledger.read"],
                                                            "require_2fa": True})
    assert made.status_code == 201 and made.json()["require_2fa"] is True
    person = await register(client)
    await client.patch(f"/users/{person['id']}", headers=admin, json={"roles": ["user", "treasurer"]})
    tokens = await login(client, person["username"])
    me = (await client.get("/me", headers=bearer(tokens))).json()
    assert me["otp_setup_required"] == ["treasurer"] and me["permissions"] == []
    await _enable(client, bearer(tokens))
    again = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
    me = (await client.get("/me", headers=bearer(again.json()))).json()
    assert me["otp_setup_required"] == [] and "ledger.read" in me["permissions"]
    refused = await client.post("/me/2fa/disable", headers=bearer(again.json()), json={"password": PASSWORD})
    assert refused.status_code == 403 and "treasurer" in refused.json()["error"]["message"]
