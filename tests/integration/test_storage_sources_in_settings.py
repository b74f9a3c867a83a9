"""An FTP source an admin defines in the settings service, its password a secret: kept
encrypted, shown masked to people, read in clear only by storage's own service token;
storage mounts it and serves it end to end, follows a change and drops it when removed.
Real auth, settings and storage over HTTP, MongoDB, NATS and the FTP loopback server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from webos_auth.main import create_app as create_auth
from webos_auth.testing import ADMIN_PASSWORD, Accounts, bearer, login
from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client, serve_app
from webos_settings.main import create_app as create_settings
from webos_settings.settings import SettingsSettings
from webos_storage.main import create_app as create_storage
from webos_storage.settings import SourceConfig, StorageSettings
from webos_storage.testing.loopback import Loopback


async def _until(check: Callable[[], Awaitable[bool] | bool], timeout: float = 15.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result or asyncio.get_running_loop().time() > deadline:
            return bool(result)
        await asyncio.sleep(0.1)


async def _stored_documents(app: Any) -> list[str]:
    db = app.state.resources.db
    return [str(doc) for name in await db.list_collection_names() async for doc in db[name].find({})]


async def test_a_source_defined_in_settings_with_its_password_as_a_secret(
        webos_env: dict[str, str], tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "credentials")
    for name in ("settings", "storage"):
        accounts.add(name, "service")
    accounts.add("snoop", "module")
    server = Loopback("ftp", tmp_path / "ftp").start()
    folder, source_id = f"f{uuid.uuid4().hex[:8]}", f"ftp{uuid.uuid4().hex[:6]}"
    source = {"id": source_id, "kind": "ftp", "host": "127.0.0.1", "port": server.port, "root": folder,
              "username": server.user, "password": server.password}
    issuer = TestIssuer()
    alice = {"Authorization": f"Bearer {issuer.token('alice')}"}
    try:
        async with serve_app(create_auth(accounts.settings())) as auth_url:
            settings_app = create_settings(SettingsSettings(auth_url=auth_url, settings_watch_registry=False))
            async with serve_app(settings_app) as settings_url, \
                    httpx.AsyncClient(base_url=auth_url) as auth:
                admin = bearer(await login(auth, "root", ADMIN_PASSWORD))
                async with httpx.AsyncClient(base_url=settings_url, headers=admin, timeout=15) as people:
                    disk = await people.put("/system/storage", json={"sources": [
                        {"id": "host", "kind": "local", "root": "/"}]})  # the storage host's own disk
                    assert disk.status_code == 422 and disk.json()["error"]["details"][0]["field"].endswith("kind")
                    saved = await people.put("/system/storage", json={"sources": [source]})
                    assert saved.status_code == 200, saved.text
                    shown = (await people.get("/system/storage")).json()
                    assert shown["values"]["sources"][0]["password"] == "********"  # in clear only when asked
                    stored = await _stored_documents(settings_app)
                    assert any(source_id in doc for doc in stored)
                    assert not any(server.password in doc for doc in stored)  # encrypted at rest
                    snoop = accounts.credentials("snoop", auth_url)
                    token = await snoop.token("settings")
                    await snoop.aclose()
                    refused = await people.get("/system/storage", params={"reveal": "true"},
                                               headers={"Authorization": f"Bearer {token}"})
                    assert refused.status_code == 403

                    storage = create_storage(StorageSettings(
                        settings_url=settings_url,
                        storage_sources=[SourceConfig(id="local", kind="local", root=str(tmp_path / "local"))]))
                    storage.state.resources.verifier = issuer.verifier()
                    storage.state.resources.credentials = accounts.credentials("storage", auth_url)
                    async with lifespan_client(storage) as files:
                        assert await _until(lambda: source_id in storage.state.storage.sources), "never mounted"
                        urn = f"fs://{source_id}/docs/report.txt"
                        put = await files.put("/files/content", params={"urn": urn}, content=b"quarterly",
                                              headers=alice)
                        assert put.status_code == 201, put.text
                        assert (server.root / folder / "docs" / "report.txt").read_bytes() == b"quarterly"
                        got = await files.get("/files/content", params={"urn": urn}, headers=alice)
                        assert got.status_code == 200 and got.content == b"quarterly"
                        listed = (await files.get("/sources", headers=alice)).text
                        assert source_id in listed and server.password not in listed

                        wrong = {**source, "password": "not-the-password"}  # a changed secret is remounted
                        assert (await people.put("/system/storage", json={"sources": [wrong]})).status_code == 200

                        async def refused_now() -> bool:
                            answer = await files.get("/files/content", params={"urn": urn}, headers=alice)
                            return answer.status_code == 503

                        assert await _until(refused_now), "the wrong password was never used"
                        assert (await people.put("/system/storage", json={"sources": []})).status_code == 200
                        assert await _until(lambda: source_id not in storage.state.storage.sources)
                        gone = await files.get("/files/content", params={"urn": urn}, headers=alice)
                        assert gone.status_code == 404
    finally:
        server.stop()
