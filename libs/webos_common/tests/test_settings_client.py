"""webos_common.settings.client: typed, cached reads from the real settings service,
dropped on settings:changed — also in another process."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from collections.abc import AsyncIterator

import httpx
import nats
import pytest
from pydantic import BaseModel, Field, SecretStr

from webos_common.http.errors import Forbidden, NotFound
from webos_common.security.testing import TestIssuer
from webos_common.settings.client import SettingsClient
from webos_common.testing import serve_app

webos_settings_main = pytest.importorskip("webos_settings.main")

TASKS_SCHEMA = {"type": "object", "properties": {
    "page_size": {"type": "integer", "minimum": 1, "default": 25},
    "webhook_token": {"anyOf": [{"type": "string", "writeOnly": True}, {"type": "null"}], "default": None}}}


class TasksSettings(BaseModel):
    page_size: int = 10
    webhook_token: SecretStr | None = None


class ShellPrefs(BaseModel):
    theme: str
    language: str


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def service(webos_env: dict[str, str], issuer: TestIssuer) -> AsyncIterator[str]:
    from webos_settings.settings import SettingsSettings

    app = webos_settings_main.create_app(SettingsSettings(settings_watch_registry=False))
    app.state.resources.verifier = issuer.verifier()
    async with serve_app(app) as base:
        admin = issuer.headers("root", roles=("admin",))
        async with httpx.AsyncClient(base_url=base, headers=admin) as http:
            assert (await http.put("/schemas/tasks", json={"schema": TASKS_SCHEMA})).status_code == 200
        yield base


async def test_typed_reads_are_cached_and_dropped_on_change(service: str, issuer: TestIssuer, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    ops = issuer.token("ops", permissions=("settings.admin", "settings.secrets.read"))
    client = SettingsClient(service, token=ops, nats=nc, ttl=3600)
    await client.start()
    try:
        first = await client.module("tasks", TasksSettings)
        assert first.page_size == 25 and first.webhook_token is None
        assert await client.module("tasks", TasksSettings) is first
        assert (client.stats.hits, client.stats.misses) == (1, 1)

        async with httpx.AsyncClient(base_url=service, headers={"Authorization": f"Bearer {ops}"}) as http:
            r = await http.patch("/modules/tasks", json={"page_size": 7, "webhook_token": "tok"})
            assert r.status_code == 200
        deadline = time.monotonic() + 10
        while (await client.module("tasks", TasksSettings)).page_size != 7 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        fresh = await client.module("tasks", TasksSettings)
        assert fresh.page_size == 7
        assert fresh.webhook_token is not None and fresh.webhook_token.get_secret_value() == "tok"
        assert client.stats.invalidations >= 1

        plain = SettingsClient(service, token=issuer.token("alice"))
        masked = await plain.module("tasks", TasksSettings)
        assert masked.webhook_token is not None and masked.webhook_token.get_secret_value() == "********"
        with pytest.raises(NotFound):
            await plain.module("nope", TasksSettings)
        prefs = await plain.user("shell", ShellPrefs)
        assert (prefs.theme, prefs.language) == ("system", "en")
        await plain.close()
    finally:
        await client.close()
        await nc.close()


def test_invalidation_rules() -> None:
    client = SettingsClient("http://127.0.0.1:1")
    for key in (("system", "smtp", None), ("module", "tasks", None), ("user", "tasks", ""),
                ("user", "tasks", "bob"), ("module", "notes", None)):
        client._values[key] = (float("inf"), {})
    assert client.invalidate("user", "tasks", "bob") == 2  # bob's, and the token's own (may be bob)
    assert client.invalidate("module", "tasks", None) == 1
    assert client.invalidate("system", "tasks", None) == 0
    assert client.invalidate() == 2


WORKER = textwrap.dedent("""
    import asyncio, sys, time
    import nats
    from pydantic import BaseModel
    from webos_common.settings.client import SettingsClient

    class TasksSettings(BaseModel):
        page_size: int

    async def main(base, nats_url, token):
        nc = await nats.connect(nats_url)
        client = SettingsClient(base, token=token, nats=nc, ttl=3600)
        await client.start()
        first = (await client.module("tasks", TasksSettings)).page_size
        print("page_size", first, flush=True)
        while (now := (await client.module("tasks", TasksSettings)).page_size) == first:
            await asyncio.sleep(0.005)
        print("changed", now, "misses", client.stats.misses, "at", time.time(), flush=True)
        await client.close()
        await nc.close()

    asyncio.run(main(*sys.argv[1:4]))
""")


async def test_change_through_the_api_reaches_another_process(service: str, issuer: TestIssuer,
                                                              nats_url: str) -> None:
    token = issuer.token("svc")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, service, nats_url, token,
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        assert line.decode().split() == ["page_size", "25"]
        async with httpx.AsyncClient(base_url=service, headers=issuer.headers("root", roles=("admin",))) as http:
            changed_at = time.time()
            assert (await http.patch("/modules/tasks", json={"page_size": 99})).status_code == 200
        words = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode().split()
        # Only the event can have refreshed it: the client's TTL is an hour.
        assert words[:4] == ["changed", "99", "misses", "2"]
        print(f"cross-process invalidation after {float(words[5]) - changed_at:.3f}s")
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()


class NotesSettings(BaseModel):
    font: str = "serif"
    size: int = Field(12, ge=6, le=72)


async def test_register_a_schema_from_a_model(service: str, issuer: TestIssuer) -> None:
    lead = SettingsClient(service, token=issuer.token("lead", permissions=("notes.*",)))
    alice = SettingsClient(service, token=issuer.token("alice"))
    try:
        with pytest.raises(Forbidden):
            await alice.register("notes", NotesSettings)
        assert await lead.register("notes", NotesSettings) is True
        assert await lead.register("notes", NotesSettings) is False
        assert await alice.module("notes", NotesSettings) == NotesSettings()
    finally:
        await lead.close()
        await alice.close()
