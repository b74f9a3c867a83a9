"""The module host on real MongoDB and NATS: a module dropped into the
modules folder is served with no core change; hooks are checked; migrations
run once; the manifest is announced and withdrawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nats
import pytest

from webos_common.modules.hooks import ModuleLoadError
from webos_common.modules.registry import ModuleRegistry
from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_modulehost import create_app
from webos_modulehost.migrations import MigrationError
from webos_modulehost.settings import ModuleHostSettings

ISSUER = TestIssuer()


def host(name: str, modules_dir: Path, **overrides: object) -> object:
    settings = ModuleHostSettings(module=name, service_name=name, modules_dir=str(modules_dir), **overrides)
    app = create_app(name, settings=settings)
    app.state.resources.verifier = ISSUER.verifier()
    return app


async def test_dropped_in_module_is_served(webos_env: dict[str, str], modules_dir: Path,
                                           make_module: Callable[..., str], nats_url: str) -> None:
    name = make_module()
    app = host(name, modules_dir, registry_bucket=f"b{name}")
    async with lifespan_client(app) as client:  # type: ignore[arg-type]
        assert (await client.get(f"/api/{name}/public/ping")).json() == {"pong": True}
        assert (await client.get(f"/api/{name}/greetings")).status_code == 401
        headers = ISSUER.headers("ann")
        resp = await client.post(f"/api/{name}/greetings", json={"text": "hi"}, headers=headers)
        assert resp.status_code == 201 and resp.json()["owner_id"] == "ann"
        assert (await client.get(f"/api/{name}/greetings", headers=headers)).json() == {"total": 1}
        assert (await client.get(f"/api/{name}/greetings", headers=ISSUER.headers("ben"))).json() == {"total": 0}
        collections = await app.state.resources.db.list_collection_names()  # type: ignore[attr-defined]
        assert f"{name}_greetings" in collections
        nc = await nats.connect(nats_url)
        try:
            live = await ModuleRegistry(nc.jetstream(), bucket=f"b{name}").live()
            (manifest,) = live[name]
            assert manifest.version == "0.3.0" and manifest.nav[0].label == "Hello"
            assert manifest.public_prefixes == [f"/api/{name}/public"]
            assert any(r["path"] == f"/api/{name}/greetings" for r in manifest.routes)
        finally:
            await nc.close()
    nc = await nats.connect(nats_url)  # a clean stop withdraws the manifest at once
    try:
        assert name not in await ModuleRegistry(nc.jetstream(), bucket=f"b{name}").live()
    finally:
        await nc.close()


def test_misspelled_hook_fails_the_start(modules_dir: Path, make_module: Callable[..., str]) -> None:
    name = make_module({"plugin.py": "def webos_register_uii():\n    return []\n"})
    with pytest.raises(ModuleLoadError, match="did you mean 'webos_register_ui'"):
        host(name, modules_dir)


def test_unknown_module_fails_clearly(modules_dir: Path) -> None:
    with pytest.raises(ModuleLoadError, match="not found"):
        host("nosuchmodule", modules_dir)


async def test_migrations_run_once_across_restarts(webos_env: dict[str, str], modules_dir: Path,
                                                   make_module: Callable[..., str]) -> None:
    name = make_module()
    for _ in range(2):
        app = host(name, modules_dir, registry_bucket=f"b{name}")
        async with lifespan_client(app):  # type: ignore[arg-type]
            db = app.state.resources.db  # type: ignore[attr-defined]
            assert await db[f"{name}_runs"].count_documents({}) == 1
            assert await db[f"{name}_migrations"].count_documents({"_id": "0001_count_runs"}) == 1


async def test_failing_migration_stops_the_start(webos_env: dict[str, str], modules_dir: Path,
                                                 make_module: Callable[..., str]) -> None:
    name = make_module({"migrations/0002_broken.py": "async def up(db):\n    raise RuntimeError('boom')\n"})
    app = host(name, modules_dir, registry_bucket=f"b{name}")
    with pytest.raises(MigrationError, match="migration 0002_broken failed: RuntimeError: boom"):
        async with lifespan_client(app):  # type: ignore[arg-type]
            pass
    app = host(name, modules_dir, registry_bucket=f"b{name}")
    db = app.state.resources  # the first one was applied and recorded; the broken one was not
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(webos_env["WEBOS_MONGO_URL"])
    try:
        done = [r["_id"] async for r in client[webos_env["WEBOS_MONGO_DB"]][f"{name}_migrations"].find()]
        assert done == ["0001_count_runs"]
    finally:
        await client.close()
    assert db is not None


def test_announced_address() -> None:
    from webos_modulehost.manifest import base_url

    gateway = "http://127.0.0.1:8700"
    assert base_url(ModuleHostSettings(port=8711, public_url=gateway, gateway_url=gateway)) == "http://127.0.0.1:8711"
    assert base_url(ModuleHostSettings(port=8711, host="0.0.0.0")) == "http://127.0.0.1:8711"
    assert base_url(ModuleHostSettings(public_url="http://module-tasks:8710/")) == "http://module-tasks:8710"
    assert base_url(ModuleHostSettings(advertise_url="http://10.0.0.5:8710", public_url=gateway)) == \
        "http://10.0.0.5:8710"


async def test_a_modules_static_folder_is_served_openly(webos_env: dict[str, str], modules_dir: Path,
                                                        make_module: Callable[..., str]) -> None:
    name = make_module({"static/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
                        "static/css/board.css": ".card { color: red }"})
    app = host(name, modules_dir, registry_bucket=f"b{name}")
    async with lifespan_client(app) as client:  # type: ignore[arg-type]
        logo = await client.get(f"/api/{name}/static/logo.svg")  # no token: the browser fetches it
        assert logo.status_code == 200 and logo.headers["content-type"].startswith("image/svg+xml")
        css = await client.get(f"/api/{name}/static/css/board.css")
        assert css.status_code == 200 and "color: red" in css.text
        assert (await client.get(f"/api/{name}/static/missing.png")).status_code == 404
        assert (await client.get(f"/api/{name}/static/../plugin.py")).status_code == 404
        manifest = app.state.manifest  # type: ignore[attr-defined]
        assert manifest.public_prefixes == [f"/api/{name}/public", f"/api/{name}/static"]


GRANT_PLUGIN = """
from webos_common.modules.manifest import NavEntry

def webos_register_ui():
    return [NavEntry(label="Hello", path="/m/hello")]

def webos_register_read_grants():
    return ["ledger.entries", "NAME.greetings"]  # its own collection needs no grant
"""

GRANT_ROUTER = """
from fastapi import APIRouter
from webos_common.documents.grants import ReadGrants
from webos_common.modules.service_registry import provide

router = APIRouter()

@router.get("/report")
async def report(grants: ReadGrants = provide(ReadGrants)) -> dict:
    entries = grants.collection("ledger.entries")
    return {"count": await entries.count_documents({}),
            "amounts": sorted(d["amount"] for d in await entries.find({}, projection={"_id": 0})),
            "by_owner": sorted([d["_id"], d["n"]] for d in await entries.aggregate(
                [{"$group": {"_id": {"$ifNull": ["$owner_id", "-"]}, "n": {"$sum": 1}}}]))}

@router.get("/sneak")
async def sneak(grants: ReadGrants = provide(ReadGrants)) -> dict:
    return {"n": await grants.collection("auth.users").count_documents({})}
"""


async def test_a_read_grant_reads_another_modules_data_scoped_and_read_only(
        webos_env: dict[str, str], modules_dir: Path, make_module: Callable[..., str]) -> None:
    name = make_module({"plugin.py": GRANT_PLUGIN, "router.py": GRANT_ROUTER})
    app = host(name, modules_dir, registry_bucket=f"b{name}")
    async with lifespan_client(app) as client:  # type: ignore[arg-type]
        db = app.state.resources.db  # type: ignore[attr-defined]
        await db["ledger_entries"].insert_many([
            {"owner_id": "ann", "amount": 5}, {"owner_id": "ann", "amount": 7}, {"owner_id": "ben", "amount": 11},
            {"amount": 1}, {"owner_id": "ann", "amount": 99, "deleted_at": "2026-01-01"}])
        assert app.state.manifest.reads == ["ledger.entries"]  # type: ignore[attr-defined]
        ann = (await client.get(f"/api/{name}/report", headers=ISSUER.headers("ann"))).json()
        assert ann == {"count": 3, "amounts": [1, 5, 7], "by_owner": [["-", 1], ["ann", 2]]}
        admin = (await client.get(f"/api/{name}/report", headers=ISSUER.headers("root", roles=("admin",)))).json()
        assert admin["count"] == 4 and admin["amounts"] == [1, 5, 7, 11]  # soft-deleted left out
        sneak = await client.get(f"/api/{name}/sneak", headers=ISSUER.headers("ann"))
        assert sneak.status_code == 403 and "no read grant" in sneak.text


def test_a_malformed_read_grant_fails_the_start(modules_dir: Path, make_module: Callable[..., str]) -> None:
    name = make_module({"plugin.py": "def webos_register_read_grants():\n    return ['tasks_items']\n"})
    with pytest.raises(ModuleLoadError, match="read grant"):
        host(name, modules_dir)
