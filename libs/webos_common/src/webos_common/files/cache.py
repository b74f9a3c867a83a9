"""A process-safe disk cache behind an async API (seed 002 §9.3).

    cache = Cache.for_service("inventory", settings, nats=resources.nats)
    await cache.start()                      # listen for other replicas' evictions
    await cache.set("config", data, expire=300, tag="inventory")
    await cache.get("config")

    @cache.memoize(expire=60, tag="inventory")
    async def report(year: int) -> dict: ...

    await cache.evict(tag="inventory")       # here, and on every replica

diskcache (SQLite) is shared safely by every process on one machine that
opens the same folder; each service has its own folder under
`<WEBOS_STATE_DIR>/cache/<service>`. Replicas on other machines have their
own folders, so a tag eviction is also published on NATS
(`webos.cache.evict.<namespace>`, core pub/sub: every replica must hear it,
so it is a broadcast, not a work queue) and each listener evicts the same tag.

Reads run inline (a local SQLite read is a few microseconds, cheaper than
a thread hop); writes, evictions and clears run in a worker thread since
they may wait on SQLite's write lock held by another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import json
import pickle
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import diskcache
from diskcache.core import ENOVAL, args_to_key
from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.config import WebOSSettings

EVICT_SUBJECT = "webos.cache.evict"
_PLAIN = frozenset({str, int, float, bool, type(None), bytes})

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class CacheStats:
    """Counters of this process (diskcache's own counters would cost a write per read)."""

    hits: int = 0
    misses: int = 0
    sets: int = 0
    deletes: int = 0
    evicted: int = 0
    remote_evictions: int = 0
    entries: int = 0
    volume_bytes: int = 0

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hit_ratio": round(self.hit_ratio, 4)}


class Cache:
    def __init__(self, directory: str | Path, *, namespace: str = "default", nats: NATS | None = None,
                 size_limit: int = 2**30, timeout: float = 5.0) -> None:
        if not namespace or any(c in namespace for c in " .*>"):
            raise ValueError(f"cache namespace {namespace!r} must be one NATS subject token")
        self.directory = Path(directory)
        self.namespace = namespace
        self.nats = nats
        self.instance_id = uuid.uuid4().hex
        self._disk = diskcache.Cache(str(self.directory), size_limit=size_limit, timeout=timeout,
                                     tag_index=True, statistics=False)
        self._stats = CacheStats()
        self._sub: Subscription | None = None

    @classmethod
    def for_service(cls, service: str, settings: WebOSSettings | None = None, *,
                    nats: NATS | None = None, **options: Any) -> Cache:
        """The service's own folder: `<state_dir>/cache/<service>`."""
        state_dir = Path((settings or WebOSSettings()).state_dir)
        return cls(state_dir / "cache" / service, namespace=service, nats=nats, **options)

    @property
    def subject(self) -> str:
        return f"{EVICT_SUBJECT}.{self.namespace}"

    # -- key/value --------------------------------------------------------------
    async def get(self, key: Any, default: Any = None) -> Any:
        value = self._disk.get(key, default=ENOVAL, retry=True)
        if value is ENOVAL:
            self._stats.misses += 1
            return default
        self._stats.hits += 1
        return value

    async def set(self, key: Any, value: Any, *, expire: float | None = None, tag: str | None = None) -> None:
        await asyncio.to_thread(self._disk.set, key, value, expire=expire, tag=tag, retry=True)
        self._stats.sets += 1

    async def delete(self, key: Any) -> bool:
        deleted = bool(await asyncio.to_thread(self._disk.delete, key, retry=True))
        self._stats.deletes += int(deleted)
        return deleted

    async def clear(self) -> int:
        return int(await asyncio.to_thread(self._disk.clear, retry=True))

    # -- tags -------------------------------------------------------------------
    async def evict(self, tag: str, *, broadcast: bool = True) -> int:
        """Drop every entry with `tag` here, and (by default) on every other replica."""
        count = await self._evict_local(tag)
        if broadcast and self.nats is not None and self.nats.is_connected:
            body = json.dumps({"tag": tag, "origin": self.instance_id}).encode()
            await self.nats.publish(self.subject, body)
            await self.nats.flush()
        return count

    async def _evict_local(self, tag: str) -> int:
        count = int(await asyncio.to_thread(self._disk.evict, tag, retry=True))
        self._stats.evicted += count
        return count

    # -- memoize ----------------------------------------------------------------
    def memoize(self, expire: float | None = None, tag: str | None = None, *,
                name: str | None = None, typed: bool = False,
                ) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
        """Cache an async function's results by its arguments (a `None` result is cached too)."""

        def decorator(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
            if not inspect.iscoroutinefunction(func):
                raise TypeError(f"memoize wraps async functions; {func.__qualname__} is not")
            base = (name or f"{func.__module__}.{func.__qualname__}",)

            def make_key(*args: Any, **kwargs: Any) -> str:
                # A string key: diskcache pickles and optimizes any other key on every lookup (3x slower).
                parts = args_to_key(base, args, kwargs, typed, ())
                if all(type(p) in _PLAIN for p in parts):  # repr is exact for these
                    return f"memoize:{parts!r}"
                return f"memoize:{base[0]}:{hashlib.sha256(pickle.dumps(parts, protocol=5)).hexdigest()}"

            @functools.wraps(func)
            async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                key = make_key(*args, **kwargs)
                value = await self.get(key, ENOVAL)
                if value is not ENOVAL:
                    return value  # type: ignore[no-any-return]
                result = await func(*args, **kwargs)
                await self.set(key, result, expire=expire, tag=tag)
                return result

            wrapper.cache_key = make_key  # type: ignore[attr-defined]
            return wrapper

        return decorator

    # -- stats and lifecycle ------------------------------------------------------
    def stats(self) -> CacheStats:
        self._stats.entries = len(self._disk)
        self._stats.volume_bytes = int(self._disk.volume())
        return CacheStats(**asdict(self._stats))

    async def start(self) -> None:
        """Listen for tag evictions published by other replicas of this namespace."""
        if self.nats is None or self._sub is not None:
            return
        self._sub = await self.nats.subscribe(self.subject, cb=self._on_evict)
        await self.nats.flush()

    async def _on_evict(self, msg: Msg) -> None:
        try:
            body = json.loads(msg.data)
            tag, origin = str(body["tag"]), body.get("origin")
        except (ValueError, KeyError, TypeError):
            logger.warning("cache: ignoring a malformed eviction on {}", msg.subject)
            return
        if origin == self.instance_id:
            return
        await self._evict_local(tag)
        self._stats.remote_evictions += 1

    async def close(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):  # the connection may already be closed
                await self._sub.unsubscribe()
            self._sub = None
        self._disk.close()

    async def __aenter__(self) -> Cache:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
