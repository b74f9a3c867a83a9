"""Token exchange: a principal trades the token of the person whose request
or event it handles for a short one for one service, with that person's
permissions (never more), the acting principal named in `azp` and `act`."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from jose import jwt

from webos_auth.main import create_app
from webos_auth.testing import ADMIN_PASSWORD, Accounts, bearer, declare, login, register
from webos_common.config import WebOSSettings
from webos_common.http.errors import BadRequest
from webos_common.http.service import create_service_app
from webos_common.identity import PERSON_PERMISSIONS
from webos_common.security import CurrentUser, require_permission
from webos_common.security.service_auth import ASSERTION_TYPE, TOKEN_EXCHANGE
from webos_common.testing import lifespan_client, serve_app


async def _clerk(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A person holding archive.files.read and tasks.read (role clerk), and their sign-in."""
    admin = bearer(await login(client, "root", ADMIN_PASSWORD))
    await declare(client, admin, "tasks.read", "archive.files.read")
    await client.post("/roles", headers=admin, json={"name": "clerk",
                                                     "permissions": ["archive.files.read", "tasks.read"]})
    user = await register(client)
    await client.patch(f"/users/{user['id']}", headers=admin, json={"roles": ["user", "clerk"]})
    return user, await login(client, user["username"])


def _exchange(accounts: Accounts, subject: str, audience: str = "storage", **extra: str) -> dict[str, str]:
    return {"grant_type": TOKEN_EXCHANGE, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": accounts.assertion("tasks"), "audience": audience, "subject_token": subject,
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token", **extra}


async def test_an_exchanged_token_carries_the_persons_permissions_and_the_actor(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        user, session = await _clerk(client)
        answer = await client.post("/token", data=_exchange(accounts, session["access_token"]))
    assert answer.status_code == 200, answer.text
    claims = jwt.get_unverified_claims(answer.json()["access_token"])
    person = jwt.get_unverified_claims(session["access_token"])
    assert claims["sub"] == user["id"] and claims["preferred_username"] == user["username"]
    assert claims["roles"] == ["clerk", "user"]
    assert claims["permissions"] == sorted(["archive.files.read", "tasks.read", *PERSON_PERMISSIONS])
    assert claims["aud"] == "storage" and claims["typ"] == "access"
    assert claims["azp"] == "tasks" and claims["act"] == {"sub": "svc:tasks"}
    assert claims["exp"] - claims["iat"] <= 300 and claims["exp"] <= person["exp"]
    assert answer.json()["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"


async def test_an_exchange_narrows_and_never_widens_the_persons_grant(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        _, session = await _clerk(client)
        narrow = await client.post("/token", data=_exchange(accounts, session["access_token"],
                                                            scope="archive.files.read"))
        wider = await client.post("/token", data=_exchange(accounts, session["access_token"],
                                                           scope="storage.files.write"))
    claims = jwt.get_unverified_claims(narrow.json()["access_token"])
    assert claims["permissions"] == ["archive.files.read"] and claims["roles"] == []
    # tasks itself holds storage.files.write; acting for the clerk it does not
    assert wider.status_code == 400 and wider.json()["error"]["code"] == "invalid_scope"


async def test_an_api_key_is_exchanged_for_no_more_than_its_scope(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        user, session = await _clerk(client)
        key = (await client.post("/me/api-keys", headers=bearer(session),
                                 json={"name": "ci", "permissions": ["tasks.read"]})).json()["key"]
        answer = await client.post("/token", data=_exchange(accounts, key))
        wider = await client.post("/token", data=_exchange(accounts, key, scope="archive.files.read"))
    claims = jwt.get_unverified_claims(answer.json()["access_token"])
    assert claims["sub"] == user["id"] and claims["permissions"] == ["tasks.read"] and claims["roles"] == []
    assert wider.status_code == 400 and wider.json()["error"]["code"] == "invalid_scope"


@pytest.mark.parametrize("how", ["signed_out", "disabled", "deleted_key", "expired", "garbage", "service_token"])
async def test_what_auth_would_refuse_the_person_cannot_be_exchanged(accounts: Accounts, how: str) -> None:
    async with accounts.auth() as client:
        user, session = await _clerk(client)
        subject = session["access_token"]
        if how == "signed_out":
            await client.post("/logout", headers=bearer(session), json={"refresh_token": session["refresh_token"]})
        elif how == "disabled":
            admin = bearer(await login(client, "root", ADMIN_PASSWORD))
            disabled = await client.patch(f"/users/{user['id']}", headers=admin, json={"active": False})
            assert disabled.status_code == 200
        elif how == "deleted_key":
            made = (await client.post("/me/api-keys", headers=bearer(session),
                                      json={"name": "ci", "permissions": ["tasks.read"]})).json()
            await client.delete(f"/me/api-keys/{made['id']}", headers=bearer(session))
            subject = made["key"]
        elif how == "expired":
            c = client.app.state.auth  # type: ignore[attr-defined]
            now = int(time.time())
            subject = await c.keys.sign({**jwt.get_unverified_claims(subject), "iat": now - 900, "exp": now - 60})
        elif how == "garbage":
            subject = "not-a-token"
        elif how == "service_token":
            subject = (await accounts.credentials("storage", "http://test", http=client).token("storage"))
        answer = await client.post("/token", data=_exchange(accounts, subject))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_grant"


def _app(name: str, auth_url: str) -> Any:
    router = APIRouter()

    @router.get("/files", dependencies=[Depends(require_permission("archive.files.read"))])
    async def files(user: CurrentUser) -> dict[str, Any]:
        return {"user": user.id, "extra": user.extra}

    return create_service_app(name, settings=WebOSSettings(auth_url=auth_url), use_mongo=False, use_nats=False,
                              routers=[router])


async def test_exchanged_tokens_work_at_their_audience_only_and_bus_tokens_nowhere(accounts: Accounts) -> None:
    async with serve_app(create_app(accounts.settings())) as auth_url:
        async with httpx.AsyncClient(base_url=auth_url) as auth:
            user, session = await _clerk(auth)
            outsider = await register(auth)
            outsider_session = await login(auth, outsider["username"])
        tasks = accounts.credentials("tasks", auth_url)
        as_person = await tasks.exchange(session["access_token"], "storage")
        as_outsider = await tasks.exchange(outsider_session["access_token"], "storage")
        for_bus = await tasks.exchange(session["access_token"], "webos-bus")
        worker = accounts.credentials("worker", auth_url)
        from_bus = await worker.exchange(for_bus, "storage", scope="archive.files.read")
        async with lifespan_client(_app("storage", auth_url)) as storage, \
                lifespan_client(_app("settings", auth_url)) as settings:
            ok = await storage.get("/files", headers={"Authorization": f"Bearer {as_person}"})
            elsewhere = await settings.get("/files", headers={"Authorization": f"Bearer {as_person}"})
            lacking = await storage.get("/files", headers={"Authorization": f"Bearer {as_outsider}"})
            bus_as_bearer = await storage.get("/files", headers={"Authorization": f"Bearer {for_bus}"})
            via_bus = await storage.get("/files", headers={"Authorization": f"Bearer {from_bus}"})
        await tasks.aclose()
        await worker.aclose()
    assert ok.status_code == 200 and ok.json() == {"user": user["id"], "extra": {"actor": "tasks"}}
    assert elsewhere.status_code == 401
    assert lacking.status_code == 403  # the person does not hold archive.files.read, so neither does tasks for them
    bus = jwt.get_unverified_claims(for_bus)
    assert bus["typ"] == "bus" and bus["aud"] == "webos-bus" and bus_as_bearer.status_code == 401
    chained = jwt.get_unverified_claims(from_bus)
    assert via_bus.status_code == 200 and via_bus.json()["extra"] == {"actor": "worker"}
    assert chained["exp"] <= bus["exp"] and chained["act"] == {"sub": "svc:worker", "act": {"sub": "svc:tasks"}}


async def test_credentials_raise_the_refusal_and_keep_exchanges_apart(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        _, ann = await _clerk(client)
        _, bob = await _clerk(client)
        tasks = accounts.credentials("tasks", "http://test", http=client)
        first = await tasks.exchange(ann["access_token"], "storage")
        again = await tasks.exchange(ann["access_token"], "storage")
        other = await tasks.exchange(bob["access_token"], "storage")
        with pytest.raises(BadRequest) as refused:
            await tasks.exchange("not-a-token", "storage")
    assert first == again and first != other
    assert refused.value.code == "invalid_grant"
