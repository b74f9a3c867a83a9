"""Rate limits with two gateway replicas: counted in a shared JetStream KV
bucket they hold one limit in total; in each replica's memory, twice it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator

import httpx
import nats
import pytest

from webos_common.bus.connection import connect_nats
from webos_common.bus.streams import open_key_value
from webos_common.infra import NatsServer
from webos_common.infra.provision import rate_limit_bucket
from webos_common.security.credentials import CredentialStore
from webos_common.security.nats_permissions import RATE_LIMIT_BUCKET
from webos_common.security.testing import TestIssuer
from webos_common.testing import serve_app
from webos_common.testing.plugin import wait_credential
from webos_gateway.main import create_app
from webos_gateway.ratelimit import NatsKVStorage, RateLimits
from webos_gateway.settings import GatewaySettings

from .conftest import _core_app

LIMIT = 10


@contextlib.asynccontextmanager
async def replicas(nats_url: str, issuer: TestIssuer, store: str, count: int = 2) -> AsyncIterator[list[str]]:
    suffix = uuid.uuid4().hex[:10]
    async with contextlib.AsyncExitStack() as stack:
        core = await stack.enter_async_context(serve_app(_core_app()))
        urls = []
        for _ in range(count):
            settings = GatewaySettings(
                env="test", nats_url=nats_url, registry_bucket=f"gw_{suffix}", rate_limit_bucket=f"rl_{suffix}",
                rate_limit_store=store, rate_limit_user=f"{LIMIT}/minute", rate_limit_module="",
                auth_url=core, storage_url=core, settings_url=core, events_url=core, shell_url=core)
            app = create_app(settings)
            app.state.resources.verifier = issuer.verifier()
            urls.append(await stack.enter_async_context(serve_app(app)))
        yield urls
        nc = await nats.connect(nats_url)
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_key_value(f"rl_{suffix}")
        await nc.close()


async def _spread(urls: list[str], headers: dict[str, str], n: int) -> list[int]:
    """`n` requests of one user, round-robin over the replicas (as a load balancer would)."""
    codes = []
    async with httpx.AsyncClient() as client:
        for url in itertools.islice(itertools.cycle(urls), n):
            codes.append((await client.get(f"{url}/api/storage/x", headers=headers)).status_code)
    return codes


async def test_two_replicas_share_one_limit(nats_url: str) -> None:
    issuer = TestIssuer()
    async with replicas(nats_url, issuer, "nats") as urls:
        codes = await _spread(urls, issuer.headers("alice"), 3 * LIMIT)
        assert codes.count(200) == LIMIT
        assert set(codes[LIMIT:]) == {429}
        # another user has a counter of their own
        assert await _spread(urls, issuer.headers("bob"), 2) == [200, 200]


async def test_memory_counters_allow_the_limit_per_replica(nats_url: str) -> None:
    """The baseline the shared store fixes: each replica counts alone."""
    issuer = TestIssuer()
    async with replicas(nats_url, issuer, "memory") as urls:
        codes = await _spread(urls, issuer.headers("alice"), 3 * LIMIT)
        assert codes.count(200) == 2 * LIMIT


async def test_concurrent_hits_on_two_replicas_count_exactly(nats_url: str) -> None:
    """Compare-and-set on the key's revision: racing increments from both replicas are all counted."""
    issuer = TestIssuer()
    async with replicas(nats_url, issuer, "nats") as urls:
        headers = issuer.headers("carol")
        async with httpx.AsyncClient() as client:
            async def one(url: str) -> int:
                return (await client.get(f"{url}/api/storage/x", headers=headers)).status_code
            codes = await asyncio.gather(*(one(urls[i % 2]) for i in range(2 * LIMIT)))
        assert codes.count(200) == LIMIT
        assert codes.count(429) == LIMIT


def test_shared_counters_refuse_strategies_a_kv_cannot_count() -> None:
    with pytest.raises(ValueError, match="fixed windows only"):
        RateLimits(user="1/second", module="", strategy="moving-window", shared=True)




async def test_the_gateways_own_credential_counts_in_the_provisioned_bucket(
        nats_server: NatsServer, nats_credentials: CredentialStore) -> None:
    """Least privilege holds: the gateway principal may read and write the counters, a module may not."""
    seeds = {}
    for name, kind in (("gateway", "service"), (f"mod-{uuid.uuid4().hex[:6]}", "module")):
        seeds[name] = nats_credentials.issue(name, kind)  # type: ignore[arg-type]
    nats_server.reload()
    for name, seed in seeds.items():
        await wait_credential(nats_server.url, seed, principal=name)
    gateway = await connect_nats(nats_server.url, name="gateway", credential_file=seeds["gateway"],
                                 principal="gateway")
    try:
        kv = await open_key_value(gateway.jetstream(), rate_limit_bucket(), create=False)
        storage = NatsKVStorage(kv)
        key = f"test/{uuid.uuid4().hex}"
        assert [await storage.incr(key, 60) for _ in range(3)] == [1, 2, 3]
        assert await storage.get(key) == 3
        await storage.clear(key)
        assert await storage.get(key) == 0
        assert await storage.incr(key, 60) == 1  # a cleared (deleted) key counts afresh
    finally:
        await gateway.close()
    module = next(n for n in seeds if n != "gateway")
    intruder = await connect_nats(nats_server.url, name=module, credential_file=seeds[module], principal=module)
    try:
        with pytest.raises(Exception):  # noqa: B017 - refused: a permissions violation or a timeout
            await intruder.jetstream().publish(f"$KV.{RATE_LIMIT_BUCKET}.x", b"0 0", timeout=1.0)
    finally:
        await intruder.close()


async def test_an_unreachable_bucket_falls_back_to_this_replicas_counters(nats_url: str) -> None:
    """The bus gone: limits still hold, counted per replica, and a hit answers at once (no hang)."""
    nc = await nats.connect(nats_url)
    bucket = f"rl_{uuid.uuid4().hex[:10]}"
    kv = await open_key_value(nc.jetstream(), rate_limit_bucket(bucket), create=True)
    limits = RateLimits(user="2/minute", module="", shared=True)
    limits.share(kv)
    assert [await limits.check_user("dan") for _ in range(2)] == [None, None]
    await nc.jetstream().delete_key_value(bucket)
    await nc.close()
    waits = [await asyncio.wait_for(limits.check_user("dan"), 5) for _ in range(3)]
    assert waits[:2] == [None, None] and waits[2] is not None and waits[2] > 0
