"""A module's process reads its own settings, secrets included, over HTTP
with its service token; every other process and person gets the masked
view, or a 403 when a process asks for secrets that are not its own.

The last test runs the real auth (from `webos_auth.testing`, a test-only
import: the services' code never imports one another) so the token is the
one a module host gets from its seed."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from pydantic import BaseModel, SecretStr

from webos_auth.main import create_app as create_auth
from webos_auth.testing import ADMIN_PASSWORD, Accounts, bearer, login
from webos_common.http.errors import Forbidden
from webos_common.security.testing import TestIssuer
from webos_common.settings.client import ModuleSettings, SettingsClient
from webos_common.testing import serve_app
from webos_settings.main import create_app
from webos_settings.settings import SettingsSettings


def service_token(issuer: TestIssuer, principal: str, *, audience: str = "settings") -> dict[str, str]:
    """Headers with a token shaped as auth's service tokens are."""
    token = issuer.token(f"svc:{principal}", aud=audience, roles=("service",), principal=principal,
                         principal_kind="module")
    return {"Authorization": f"Bearer {token}"}


async def _demo(client: Any, admin: Any, tasks_schema: Any) -> str:
    module = f"demo{uuid.uuid4().hex[:8]}"
    assert (await client.put(f"/schemas/{module}", headers=admin, json={"schema": tasks_schema})).status_code == 200
    saved = await client.put(f"/modules/{module}", headers=admin, json={"page_size": 50, "webhook_token": "s3cret"})
    assert saved.status_code == 200, saved.text
    return module


async def test_a_modules_own_token_reveals_its_secrets(client: Any, admin: Any, issuer: TestIssuer,
                                                       tasks_schema: Any) -> None:
    module = await _demo(client, admin, tasks_schema)
    own = await client.get(f"/modules/{module}", params={"reveal": "true"}, headers=service_token(issuer, module))
    assert own.status_code == 200, own.text
    assert own.json()["values"]["webhook_token"] == "s3cret" and own.json()["secrets_revealed"] is True
    masked = await client.get(f"/modules/{module}", headers=service_token(issuer, module))
    assert masked.json()["values"]["webhook_token"] == "********"  # only when asked


async def test_other_processes_and_people_get_no_secrets(client: Any, admin: Any, issuer: TestIssuer,
                                                         tasks_schema: Any) -> None:
    module = await _demo(client, admin, tasks_schema)
    other = service_token(issuer, "reports")
    refused = await client.get(f"/modules/{module}", params={"reveal": "true"}, headers=other)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    masked = await client.get(f"/modules/{module}", headers=other)
    assert masked.status_code == 200 and masked.json()["values"]["webhook_token"] == "********"
    person = await client.get(f"/modules/{module}", params={"reveal": "true"}, headers=admin)
    assert person.json()["values"]["webhook_token"] == "********" and person.json()["secrets_revealed"] is False
    for_storage = await client.get(f"/modules/{module}", headers=service_token(issuer, module, audience="storage"))
    assert for_storage.status_code == 401  # a token for another service
    system = await client.get("/system/smtp", params={"reveal": "true"}, headers=service_token(issuer, module))
    assert system.status_code == 403


class DemoSettings(BaseModel):
    page_size: int = 25
    default_view: str = "list"
    webhook_token: SecretStr | None = None


async def until(check: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


@pytest.fixture
def accounts(webos_env: dict[str, str], tmp_path: Path) -> Accounts:
    return Accounts(tmp_path / "credentials")


async def test_module_settings_over_http_with_the_modules_service_token(accounts: Accounts, tasks_schema: Any,
                                                                      nats_url: str) -> None:
    module = f"demo{uuid.uuid4().hex[:8]}"
    accounts.add(module, "module")
    accounts.add("reports", "module")
    accounts.add("settings", "service")
    async with serve_app(create_auth(accounts.settings())) as auth_url, \
            serve_app(create_app(SettingsSettings(auth_url=auth_url, settings_watch_registry=False))) as settings_url:
        async with httpx.AsyncClient(base_url=auth_url) as auth:
            admin = bearer(await login(auth, "root", ADMIN_PASSWORD))
        async with httpx.AsyncClient(base_url=settings_url, headers=admin) as people:
            assert (await people.put(f"/schemas/{module}", json={"schema": tasks_schema})).status_code == 200
            assert (await people.put(f"/modules/{module}", json={"webhook_token": "s3cret"})).status_code == 200
            nc = await nats.connect(nats_url)
            credentials = accounts.credentials(module, auth_url)
            own = ModuleSettings(nc, module, DemoSettings, credentials=credentials, settings_url=settings_url,
                                 timeout=2)
            reports = accounts.credentials("reports", auth_url)
            snooping = SettingsClient(settings_url, token=lambda: reports.token("settings"))
            try:
                await own.start()
                assert own.http is not None and own.loaded and own.get().webhook_token is not None
                assert own.get().webhook_token.get_secret_value() == "s3cret"
                changed = await people.patch(f"/modules/{module}", json={"page_size": 7})
                assert changed.status_code == 200
                await until(lambda: own.get().page_size == 7)  # the change event, then a read over HTTP
                assert own.version == changed.json()["version"]
                with pytest.raises(Forbidden):
                    await snooping.read("module", module)
            finally:
                await own.close()
                await snooping.close()
                await reports.aclose()
                await credentials.aclose()
                await nc.close()


async def test_a_system_section_reaches_only_the_kernel_services_named_for_it(accounts: Accounts,
                                                                             nats_url: str) -> None:
    """`smtp` (its password included) goes to auth and events over HTTP with their own tokens; a
    module asking gets 403, and a service that may read a section still may not change it."""
    from webos_common.settings.client import SystemSettings
    from webos_common.settings.mail import SmtpSection

    accounts.add("settings", "service")
    accounts.add("events", "service")
    accounts.add("gateway", "service")
    accounts.add("snoop", "module")
    async with serve_app(create_auth(accounts.settings())) as auth_url, \
            serve_app(create_app(SettingsSettings(auth_url=auth_url, settings_watch_registry=False))) as settings_url:
        async with httpx.AsyncClient(base_url=auth_url) as auth:
            admin = bearer(await login(auth, "root", ADMIN_PASSWORD))
        async with httpx.AsyncClient(base_url=settings_url, headers=admin) as people:
            saved = await people.put("/system/smtp", json={"host": "mail.example.com", "password": "smtp-s3cret"})
            assert saved.status_code == 200, saved.text
        nc = await nats.connect(nats_url)
        events = accounts.credentials("events", auth_url)
        smtp = SystemSettings(nc, "smtp", SmtpSection, credentials=events, settings_url=settings_url, timeout=2)
        others = {name: accounts.credentials(name, auth_url) for name in ("gateway", "snoop")}
        try:
            await smtp.start()
            assert smtp.http is not None and smtp.loaded
            assert smtp.get().host == "mail.example.com" and smtp.get().password == "smtp-s3cret"
            for credentials in others.values():  # a kernel service not named for smtp, a module
                client = SettingsClient(settings_url, token=lambda c=credentials: c.token("settings"))
                try:
                    with pytest.raises(Forbidden):
                        await client.read("system", "smtp")
                finally:
                    await client.close()
            token = await events.token("settings")
            async with httpx.AsyncClient(base_url=settings_url, headers={"Authorization": f"Bearer {token}"}) as svc:
                changed = await svc.put("/system/smtp", json={"host": "evil.example.com"})
                assert changed.status_code == 403
        finally:
            await smtp.close()
            await events.aclose()
            for credentials in others.values():
                await credentials.aclose()
            await nc.close()
