"""Service accounts: a principal proves who it is with a client assertion
signed by its nkey seed and gets a short-lived token for one service, with
its permissions (client credentials) — refused anywhere else."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from fastapi import APIRouter, Depends
from jose import jwt

from webos_auth.main import create_app
from webos_auth.testing import Accounts
from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.security import CurrentUser, require_permission
from webos_common.security.principals import new_seed, public_key_of
from webos_common.security.service_auth import ASSERTION_TYPE, ServiceCredentials, client_assertion
from webos_common.testing import lifespan_client, serve_app


def _form(assertion: str, audience: str = "storage", **extra: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion, "audience": audience, **extra}


async def test_a_principal_gets_a_token_for_one_service_with_its_permissions(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        answer = await client.post("/token", data=_form(accounts.assertion("tasks")))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["sub"] == "svc:tasks" and claims["aud"] == "storage" and claims["typ"] == "access"
    assert claims["roles"] == ["service"] and claims["principal"] == "tasks" and claims["principal_kind"] == "module"
    assert claims["permissions"] == ["storage.files.read", "storage.files.write"]
    assert claims["exp"] - claims["iat"] == 300 and claims["iss"] == "webos" and claims["jti"]


def _forged(accounts: Accounts, kind: str) -> str:
    seed = accounts.seeds["tasks"]
    if kind == "wrong_key":  # signed with another key, which it names honestly
        return client_assertion("tasks", new_seed())
    if kind == "stolen_kid":  # names tasks' key, signed with another
        head, body, _ = client_assertion("tasks", seed).split(".")
        _, _, sig = client_assertion("tasks", new_seed()).split(".")
        return f"{head}.{body}.{sig}"
    if kind == "unknown_principal":
        return client_assertion("intruder", new_seed())
    if kind == "iss_not_sub":
        return client_assertion("tasks", seed, iss="storage")
    if kind == "expired":
        return client_assertion("tasks", seed, now=time.time() - 600)
    if kind == "too_long":
        return client_assertion("tasks", seed, lifetime=3600)
    if kind == "wrong_aud":
        return client_assertion("tasks", seed, aud="webos")
    if kind == "no_jti":
        return client_assertion("tasks", seed, jti=None)
    if kind == "empty_sig":
        return client_assertion("tasks", seed).rsplit(".", 1)[0] + "."
    return {"garbage": "not-a-jwt", "three_parts": "a.b.c"}[kind]


@pytest.mark.parametrize("kind", ["wrong_key", "stolen_kid", "unknown_principal", "iss_not_sub", "expired",
                                  "too_long", "wrong_aud", "no_jti", "garbage", "three_parts", "empty_sig"])
async def test_a_bad_client_assertion_is_401_invalid_client(accounts: Accounts, kind: str) -> None:
    async with accounts.auth() as client:
        answer = await client.post("/token", data=_form(_forged(accounts, kind)))
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "invalid_client"


async def test_an_assertion_is_good_for_one_token_only(accounts: Accounts) -> None:
    assertion = accounts.assertion("tasks")
    async with accounts.auth() as client:
        first = await client.post("/token", data=_form(assertion))
        replayed = await client.post("/token", data=_form(assertion, audience="settings"))
    assert first.status_code == 200
    assert replayed.status_code == 401 and "replayed" in replayed.json()["error"]["message"]


async def test_a_scope_narrows_and_never_widens(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        narrow = await client.post("/token", data=_form(accounts.assertion("tasks"), scope="storage.files.read"))
        wide = await client.post("/token", data=_form(accounts.assertion("tasks"), scope="storage.files.read *"))
    assert jwt.get_unverified_claims(narrow.json()["access_token"])["permissions"] == ["storage.files.read"]
    assert wide.status_code == 400 and wide.json()["error"]["code"] == "invalid_scope"
    assert wide.json()["error"]["details"]["not_granted"] == ["*"]


@pytest.mark.parametrize(("change", "field"), [
    ({"audience": "webos"}, "audience"),  # the people's audience
    ({"audience": "webos-bus"}, "audience"),  # only by exchange
    ({"audience": "worker"}, "audience"),  # a principal that serves no HTTP
    ({"audience": "nosuch"}, "audience"),
    ({"audience": None}, "audience"),
    ({"grant_type": "password"}, "grant_type"),
    ({"client_assertion_type": "basic"}, "client_assertion_type"),
    ({"client_assertion": None}, "client_assertion"),
    ({"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token"),
])
async def test_a_bad_or_missing_field_is_422_naming_it(accounts: Accounts, change: dict[str, Any],
                                                      field: str) -> None:
    form = {k: v for k, v in {**_form(accounts.assertion("tasks")), **change}.items() if v is not None}
    async with accounts.auth() as client:
        answer = await client.post("/token", data=form)
    assert answer.status_code == 422, answer.text
    assert [d["field"] for d in answer.json()["error"]["details"]] == [field]


async def test_principals_added_to_the_registry_are_known_without_a_restart(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        before = await client.post("/token", data=_form(accounts.assertion("reports")))
        accounts.add("reports", "module", ["storage.files.read"])
        after = await client.post("/token", data=_form(accounts.assertion("reports")))
        accounts.remove("reports")
        removed = await client.post("/token", data=_form(accounts.assertion("reports")))
    assert before.status_code == 401 and after.status_code == 200 and removed.status_code == 401


def _storage_like(name: str, auth_url: str) -> Any:
    router = APIRouter()

    @router.get("/files", dependencies=[Depends(require_permission("storage.files.read"))])
    async def files(user: CurrentUser) -> dict[str, Any]:
        return {"user": user.id, "extra": user.extra}

    @router.delete("/files", dependencies=[Depends(require_permission("storage.files.delete"))])
    async def delete(user: CurrentUser) -> dict[str, str]:
        return {"user": user.id}

    return create_service_app(name, settings=WebOSSettings(auth_url=auth_url), use_mongo=False, use_nats=False,
                              routers=[router])


async def test_service_to_service_calls_hold_to_audience_and_permissions(accounts: Accounts) -> None:
    async with serve_app(create_app(accounts.settings())) as auth_url:
        tasks = accounts.credentials("tasks", auth_url)
        token = await tasks.token("storage")
        bearer = {"Authorization": f"Bearer {token}"}
        async with lifespan_client(_storage_like("storage", auth_url)) as storage, \
                lifespan_client(_storage_like("settings", auth_url)) as settings:
            read = await storage.get("/files", headers=bearer)
            delete = await storage.delete("/files", headers=bearer)  # tasks does not hold storage.files.delete
            elsewhere = await settings.get("/files", headers=bearer)  # aud=storage
        await tasks.aclose()
    assert read.status_code == 200
    assert read.json() == {"user": "svc:tasks", "extra": {"principal": "tasks", "principal_kind": "module"}}
    assert delete.status_code == 403
    assert elsewhere.status_code == 401


async def test_credentials_keep_their_token_and_share_one_request(accounts: Accounts) -> None:
    async with accounts.auth() as client:
        tasks = accounts.credentials("tasks", "http://test", http=client)
        first, second = await asyncio.gather(tasks.token("storage"), tasks.token("storage"))
        again = await tasks.token("storage")
        narrow = await tasks.token("storage", scope=["storage.files.read"])
        other = await tasks.token("settings")
        spent = await client.app.state.auth.db["auth_assertion_jtis"].count_documents({})  # type: ignore[attr-defined]
    assert first == second == again
    assert len({first, narrow, other}) == 3
    assert spent == 3  # one assertion per token actually fetched


def test_no_credential_file_means_no_credentials() -> None:
    assert ServiceCredentials.from_settings(WebOSSettings(credential_file=None)) is None


async def test_a_process_reads_its_credentials_from_its_seed_file(tmp_path: Any) -> None:
    from webos_common.security.principals import CredentialError, seed_path, write_seed

    seed = new_seed()
    write_seed(seed_path(tmp_path, "tasks"), seed)
    creds = ServiceCredentials.from_settings(WebOSSettings(credential_file=str(tmp_path / "tasks.nk"),
                                                           principal="tasks"))
    assert creds is not None and creds.principal == "tasks"
    assert jwt.get_unverified_header(client_assertion("tasks", seed))["kid"] == public_key_of(seed)
    with pytest.raises(CredentialError, match=r"nope\.nk"):
        ServiceCredentials.from_settings(WebOSSettings(credential_file=str(tmp_path / "nope.nk")))


async def test_an_unreachable_auth_is_unavailable(accounts: Accounts) -> None:
    from webos_common.http.errors import Unavailable

    tasks = accounts.credentials("tasks", f"http://127.0.0.1:9/{uuid.uuid4().hex}")
    with pytest.raises(Unavailable):
        await tasks.token("storage")
    await tasks.aclose()
