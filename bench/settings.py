"""Settings client and cache, in one run against a throwaway mongod and
nats-server with the settings service served in-process on loopback:

* cached typed read (`await client.module("tasks", TasksSettings)`) vs a
  direct MongoDB `find_one` of the same settings document (and, for
  context, the uncached HTTP read the cache saves);
* `@cache.memoize` hit vs a bare `diskcache.Cache.get` of the same value.

Each figure is operations per second, the median of a few timed rounds;
the ratio is WebOS / baseline.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import diskcache
import httpx
import nats
from pydantic import BaseModel

from webos_common.documents import db
from webos_common.files.cache import Cache
from webos_common.infra import MongoServer, NatsServer
from webos_common.security.testing import TestIssuer
from webos_common.settings.client import SettingsClient
from webos_common.testing import serve_app
from webos_settings.main import create_app
from webos_settings.settings import SettingsSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support.provisioning import provision_nats

ROUNDS = 5
ROUND_SECONDS = 0.6
SCHEMA = {"type": "object", "properties": {
    "page_size": {"type": "integer", "minimum": 1, "default": 25},
    "default_view": {"type": "string", "default": "list"}}}


class TasksSettings(BaseModel):
    page_size: int
    default_view: str


async def rate(op: Callable[[], Awaitable[object]], *, batch: int = 200) -> float:
    """Median ops/s over ROUNDS rounds of about ROUND_SECONDS each."""
    rates = []
    for _ in range(ROUNDS):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < ROUND_SECONDS:
            for _ in range(batch):
                await op()
            n += batch
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def line(name: str, ours: float, base: float, base_name: str) -> None:
    print(f"{name:<34} {ours:>12,.0f} ops/s   {base_name:<26} {base:>12,.0f} ops/s   ratio {ours / base:6.1f}x")


async def bench_settings(mongo_url: str, nats_url: str, state: Path) -> None:
    issuer = TestIssuer()
    settings = SettingsSettings(env="test", mongo_url=mongo_url, nats_url=nats_url, mongo_db="bench_settings",
                                state_dir=str(state), settings_watch_registry=False, log_level="WARNING")
    app = create_app(settings)
    app.state.resources.verifier = issuer.verifier()
    token = issuer.token("bench", roles=("admin",))
    async with serve_app(app) as base:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            assert (await http.put("/schemas/tasks", json={"schema": SCHEMA})).status_code == 200
            assert (await http.put("/modules/tasks", json={"page_size": 50})).status_code == 200
        nc = await nats.connect(nats_url)
        client = SettingsClient(base, token=token, nats=nc)
        await client.start()
        mongo = db.mongo_client(mongo_url)
        values = mongo["bench_settings"]["settings_values"]
        uncached = SettingsClient(base, token=token, ttl=0)
        try:
            assert (await client.module("tasks", TasksSettings)).page_size == 50
            cached = await rate(lambda: client.module("tasks", TasksSettings), batch=2000)
            direct = await rate(lambda: values.find_one({"_id": "module/tasks"}), batch=50)
            http_read = await rate(lambda: uncached.module("tasks", TasksSettings), batch=20)
        finally:
            await uncached.close()
            await client.close()
            await nc.close()
            await mongo.close()
    line("settings: cached typed read", cached, direct, "direct MongoDB find_one")
    line("settings: uncached typed read (HTTP)", http_read, direct, "direct MongoDB find_one")


async def bench_cache(state: Path) -> None:
    cache = Cache(state / "memo", namespace="bench")

    @cache.memoize(expire=600, tag="bench")
    async def report(year: int) -> dict[str, int]:
        return {"year": year, "total": 42}

    await report(2026)
    bare = diskcache.Cache(str(state / "bare"))
    bare.set("report-2026", {"year": 2026, "total": 42})

    async def bare_get() -> object:
        return bare.get("report-2026")

    try:
        memo = await rate(lambda: report(2026), batch=1000)
        plain = await rate(bare_get, batch=1000)
    finally:
        await cache.close()
        bare.close()
    line("cache: memoize hit", memo, plain, "bare diskcache get")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="webos-bench-settings-") as tmp:
        root = Path(tmp)
        mongo = MongoServer(root / "mongo", die_with_parent=True)
        nats_server = NatsServer(root / "nats", die_with_parent=True)
        mongo.start()
        nats_server.start()
        try:
            asyncio.run(provision_nats(nats_server.url))
            started = time.perf_counter()
            asyncio.run(bench_settings(mongo.url, nats_server.url, root / "state"))
            asyncio.run(bench_cache(root / "state"))
            print(f"(took {time.perf_counter() - started:.0f}s)")
        finally:
            nats_server.stop()
            mongo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
