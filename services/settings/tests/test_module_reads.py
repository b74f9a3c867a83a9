"""A module reads its own settings over NATS (`ModuleSettings`): the values an
admin saved, secrets in clear, followed live; an unknown module keeps defaults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import nats
import pytest
from pydantic import BaseModel

from webos_common.settings.client import ModuleSettings


class DemoSettings(BaseModel):
    page_size: int = 25
    default_view: str = "list"
    webhook_token: str | None = None


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_a_module_reads_and_follows_its_own_settings(client: Any, admin: Any, tasks_schema: Any,
                                                           nats_url: str) -> None:
    module = f"demo{uuid.uuid4().hex[:8]}"
    assert (await client.put(f"/schemas/{module}", headers=admin, json={"schema": tasks_schema})).status_code == 200
    saved = await client.put(f"/modules/{module}", headers=admin, json={"page_size": 50, "webhook_token": "s3cret"})
    assert saved.status_code == 200 and saved.json()["values"]["webhook_token"] == "********"
    nc = await nats.connect(nats_url)
    mine = ModuleSettings(nc, module, DemoSettings, timeout=1)
    try:
        await mine.start()
        assert mine.loaded
        assert mine.get() == DemoSettings(page_size=50, default_view="list", webhook_token="s3cret")
        changed = await client.patch(f"/modules/{module}", headers=admin, json={"page_size": 7})
        assert changed.status_code == 200, changed.text
        await until(lambda: mine.get().page_size == 7)
        assert mine.get().webhook_token == "s3cret" and mine.version == changed.json()["version"]
    finally:
        await mine.close()
        await nc.close()


async def test_an_unknown_module_keeps_its_defaults(client: Any, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    unknown = ModuleSettings(nc, f"nosuch{uuid.uuid4().hex[:8]}", DemoSettings, timeout=1, retry=60)
    try:
        await unknown.start()
        assert not unknown.loaded and unknown.get() == DemoSettings()
    finally:
        await unknown.close()
        await nc.close()


class Smtp(BaseModel):
    host: str = "localhost"
    port: int = 587
    password: str | None = None


async def test_a_service_reads_a_system_section_with_what_was_saved(client: Any, admin: Any, nats_url: str) -> None:
    from webos_common.settings.client import SystemSettings

    saved = await client.put("/system/smtp", headers=admin, json={"host": "mail.example.com", "password": "pw-1"})
    assert saved.status_code == 200, saved.text
    nc = await nats.connect(nats_url)
    smtp = SystemSettings(nc, "smtp", Smtp, timeout=1)
    try:
        await smtp.start()
        assert smtp.get() == Smtp(host="mail.example.com", port=587, password="pw-1")  # secret in clear
        assert set(smtp.explicit) == {"host", "password"}  # the port is a default, not a choice
        await client.patch("/system/smtp", headers=admin, json={"port": 2525})
        await until(lambda: smtp.get().port == 2525)
    finally:
        await smtp.close()
        await nc.close()


async def test_a_service_reads_one_persons_values_over_the_modules(client: Any, admin: Any, issuer: Any,
                                                                  nats_url: str) -> None:
    from webos_common.http.errors import Unavailable
    from webos_common.settings.client import user_values

    ann = issuer.headers("ann.smith@acme", roles=("user",))  # ids may hold dots
    mine = await client.patch("/me/notifications", headers=ann, json={"digest_frequency": "weekly"})
    assert mine.status_code == 200, mine.text
    nc = await nats.connect(nats_url)
    try:
        values = await user_values(nc, "notifications", "ann.smith@acme")
        assert values["digest_frequency"] == "weekly" and values["email_enabled"] is True  # hers over the defaults
        assert (await user_values(nc, "notifications", "bob"))["digest_frequency"] == "daily"
        with pytest.raises(Unavailable):
            await user_values(nc, "Not A Module", "bob")
    finally:
        await nc.close()
