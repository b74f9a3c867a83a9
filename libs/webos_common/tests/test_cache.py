"""webos_common.files.cache: the async diskcache API, memoize, tags, and
evictions that reach another process (same folder, or another folder via NATS)."""

import asyncio
import sys
import textwrap
import uuid
from pathlib import Path

import nats
import pytest

from webos_common.config import WebOSSettings
from webos_common.files.cache import Cache


async def test_get_set_delete_and_expiry(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    try:
        assert await cache.get("missing", "fallback") == "fallback"
        await cache.set("config", {"a": [1, 2]})
        assert await cache.get("config") == {"a": [1, 2]}
        assert await cache.delete("config") is True
        assert await cache.delete("config") is False
        assert await cache.get("config") is None

        await cache.set("short", 1, expire=0.05)
        await asyncio.sleep(0.15)
        assert await cache.get("short") is None
        stats = cache.stats()
        assert (stats.hits, stats.misses, stats.sets, stats.deletes) == (1, 3, 2, 1)
    finally:
        await cache.close()


async def test_memoize_hits_and_tag_eviction(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    calls: list[int] = []

    @cache.memoize(expire=60, tag="inventory")
    async def stock(item: int) -> dict[str, int] | None:
        calls.append(item)
        return None if item == 0 else {"item": item, "qty": item * 10}

    @cache.memoize(tag="other")
    async def other() -> str:
        calls.append(-1)
        return "x"

    try:
        assert await stock(3) == {"item": 3, "qty": 30}
        assert await stock(3) == {"item": 3, "qty": 30}
        assert await stock(0) is None and await stock(0) is None  # None is cached, not recomputed
        assert await other() == "x"
        assert await stock(item=4) == await stock(item=4) == {"item": 4, "qty": 40}  # hashed key path
        assert calls == [3, 0, -1, 4]
        assert stock.cache_key(3) != stock.cache_key(item=3) != stock.cache_key(4)  # type: ignore[attr-defined]
        before = len(calls)

        assert await cache.evict(tag="inventory") >= 2
        await stock(3)
        await other()
        assert len(calls) == before + 1  # inventory recomputed, the other tag survived
        assert cache.stats().hit_ratio > 0
    finally:
        await cache.close()


async def test_memoize_refuses_sync_functions_and_bad_namespace(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    try:
        with pytest.raises(TypeError):
            cache.memoize()(lambda: 1)  # type: ignore[arg-type,return-value]
        with pytest.raises(ValueError):
            Cache(tmp_path / "d", namespace="a.b")
    finally:
        await cache.close()


def test_for_service_uses_state_dir(tmp_path: Path) -> None:
    cache = Cache.for_service("inventory", WebOSSettings(state_dir=str(tmp_path)))
    assert cache.directory == tmp_path / "cache" / "inventory"
    assert cache.subject == "webos.cache.evict.inventory"


WORKER = textwrap.dedent("""
    import asyncio, sys
    import nats
    from webos_common.files.cache import Cache

    async def main(folder, namespace, nats_url):
        nc = await nats.connect(nats_url)
        cache = Cache(folder, namespace=namespace, nats=nc)
        await cache.start()
        calls = []

        @cache.memoize(expire=60, tag="inventory", name="square")
        async def square(n):
            calls.append(n)
            return n * n

        print("square", await square(7), "computed" if calls else "hit", flush=True)
        await cache.set("kept", 1, tag="other")
        await cache.set("dropped", 2, tag="inventory")
        print("ready", flush=True)
        while await cache.get("dropped") is not None:
            await asyncio.sleep(0.02)
        print("evicted kept=%s remote=%s" % (await cache.get("kept"), cache.stats().remote_evictions), flush=True)
        await cache.close()
        await nc.close()

    asyncio.run(main(*sys.argv[1:4]))
""")


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    raw = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
    return raw.decode().strip()


async def test_memoize_shared_by_processes_and_eviction_broadcast(tmp_path: Path, nats_url: str) -> None:
    namespace = f"svc{uuid.uuid4().hex[:8]}"
    shared = tmp_path / "shared"
    nc = await nats.connect(nats_url)
    here = Cache(shared, namespace=namespace, nats=nc)

    @here.memoize(expire=60, tag="inventory", name="square")
    async def square(n: int) -> int:
        return n * n

    assert await square(7) == 49  # computed here, so the other process must hit
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, str(shared), namespace, nats_url,
        stdout=asyncio.subprocess.PIPE)
    try:
        assert await _line(proc) == "square 49 hit"
        assert await _line(proc) == "ready"
        # Another replica with its own folder (another machine): only NATS carries the eviction.
        other = Cache(tmp_path / "elsewhere", namespace=namespace, nats=nc)
        assert await other.evict(tag="inventory") == 0
        assert await _line(proc) == "evicted kept=1 remote=1"
        await other.close()
        assert await asyncio.wait_for(proc.wait(), timeout=20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await here.close()
        await nc.close()
