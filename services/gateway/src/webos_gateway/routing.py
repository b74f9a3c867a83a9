"""Where a request goes: the gateway's own endpoints, a core service, a
module host read live from the registry, or the shell.

`ModuleTable` mirrors the registry bucket through a KV watch, so a module
that announces is routable at once and one whose heartbeat lapses (the
server's delete marker) is dropped without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from loguru import logger
from pydantic import ValidationError

from webos_common.lifecycle import cancel_and_wait
from webos_common.manifest import ModuleManifest
from webos_common.module_registry import ModuleRegistry
from webos_common.shell_frame import ui_prefix
from webos_gateway.settings import CORE_SERVICES

OWN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/api/openapi.json", "/openapi.json", "/api/docs"})


@dataclass(frozen=True, slots=True)
class Route:
    kind: str  # "own" | "core" | "module" | "shell"
    name: str  # service or module name; "shell"; "gateway"
    prefix_len: int = 0  # bytes stripped from the path before proxying (core services)
    # built once (routes are shared), not on every request
    label: str = field(init=False, compare=False)  # metrics and access log: "module:tasks"
    views: str = field(init=False, compare=False)  # a module's views, which the shell frames ("" for others)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", f"{self.kind}:{self.name}")
        object.__setattr__(self, "views", ui_prefix(self.name) + "/" if self.kind == "module" else "")

    def is_view(self, path: str) -> bool:
        """A module's view (`webos_common.shell_frame`)."""
        return bool(self.views) and path.startswith(self.views)


SHELL = Route("shell", "shell")
OWN = Route("own", "gateway")
_CORE = {name: Route("core", name, len("/api/") + len(name)) for name in CORE_SERVICES}
_modules: dict[str, Route] = {}


DOCS_ASSETS = "/api/docs/assets/"  # Swagger UI's files, served by the gateway itself (no CDN)


def classify(path: str) -> Route:
    if path in OWN_PATHS or path.startswith(DOCS_ASSETS):
        return OWN
    if not path.startswith("/api/"):
        return SHELL
    name = path[5:].split("/", 1)[0]
    core = _CORE.get(name)
    if core is not None:
        return core
    route = _modules.get(name)
    if route is None:
        route = Route("module", name)
        if len(_modules) < 10_000:
            _modules[name] = route
    return route


def _gateway_path(name: str, prefix: str) -> str:
    """A manifest's public prefix as a gateway path (`/public` → `/api/<name>/public`)."""
    own = f"/api/{name}"
    return prefix if prefix.startswith(own) else f"{own}/{prefix.lstrip('/')}"


class ModuleTable:
    """Live instances per module, their enabled flags, and round-robin picking."""

    def __init__(self, registry: ModuleRegistry, *, backoff: float = 5.0) -> None:
        self.registry = registry
        self.backoff = backoff
        self.instances: dict[str, dict[str, ModuleManifest]] = {}
        self.disabled: set[str] = set()
        self.known: set[str] = set()
        self.version = 0  # bumped on every real change (the OpenAPI cache keys on it)
        self.synced = asyncio.Event()
        self._down: dict[tuple[str, str], float] = {}
        self.unhealthy: set[tuple[str, str]] = set()  # failed their last active health check
        self._cursor: dict[str, itertools.count[int]] = {}
        self._task: asyncio.Task[None] | None = None
        self.public: dict[str, tuple[str, ...]] = {}

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-module-watch")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.synced.wait(), timeout=5.0)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task, what="gateway module watch")

    async def _run(self) -> None:
        while True:
            try:
                await self._load()
                async for key, value in self.registry.watch():
                    self.apply(key, value)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS hiccup: resync and watch again
                logger.warning("module registry watch failed ({}); retrying", exc)
                await asyncio.sleep(0.5)

    async def _load(self) -> None:
        live = await self.registry.live()
        flags = await self.registry.enabled_flags()
        self.instances = {name: {m.instance_id: m for m in ms} for name, ms in live.items()}
        self.disabled = {name for name, on in flags.items() if not on}
        self.known |= set(self.instances) | set(flags)
        self._changed()
        self.synced.set()

    # -- updates from the watch ---------------------------------------------
    def apply(self, key: str, value: bytes | None) -> None:
        """Heartbeats re-write an unchanged manifest every few seconds; they
        mark the instance as answering again but are not a change (the merged
        OpenAPI document keys on `version`)."""
        kind, _, rest = key.partition(".")
        if kind == "enabled":
            self.known.add(rest)
            off = value is not None and value != b"true"
            if off == (rest in self.disabled):
                return
            if off:
                self.disabled.add(rest)
            else:
                self.disabled.discard(rest)
        elif kind == "manifest":
            name, _, instance = rest.partition(".")
            if value is None:
                if self.instances.get(name, {}).pop(instance, None) is None:
                    return
                if not self.instances.get(name):
                    self.instances.pop(name, None)
            else:
                try:
                    manifest = ModuleManifest.model_validate_json(value)
                except ValidationError:
                    logger.warning("ignoring an invalid manifest at {}", key)
                    return
                self._down.pop((name, instance), None)
                self.known.add(name)
                if self.instances.get(name, {}).get(instance) == manifest:
                    return
                self.instances.setdefault(name, {})[instance] = manifest
        else:
            return
        self._changed()

    def _changed(self) -> None:
        self.version += 1
        self.public = {name: tuple({_gateway_path(name, p) for m in insts.values() for p in m.public_prefixes})
                       for name, insts in self.instances.items()}

    # -- reads ---------------------------------------------------------------
    def enabled(self, name: str) -> bool:
        return name not in self.disabled

    def manifests(self) -> dict[str, ModuleManifest]:
        """One manifest per live, enabled module (for OpenAPI and public paths)."""
        return {name: next(iter(insts.values())) for name, insts in self.instances.items()
                if insts and name not in self.disabled}

    def candidates(self, name: str) -> list[ModuleManifest]:
        """Live, healthy instances to try, round-robin, those recently refusing last."""
        insts = list(self.instances.get(name, {}).values())
        if self.unhealthy:
            insts = [m for m in insts if (name, m.instance_id) not in self.unhealthy]
        if len(insts) > 1:
            start = next(self._cursor.setdefault(name, itertools.count())) % len(insts)
            insts = insts[start:] + insts[:start]
        if self._down:
            now = time.monotonic()
            healthy = [m for m in insts if self._down.get((name, m.instance_id), 0.0) <= now]
            insts = healthy + [m for m in insts if m not in healthy]
        return insts

    def mark_down(self, name: str, instance_id: str) -> None:
        self._down[(name, instance_id)] = time.monotonic() + self.backoff

    def is_down(self, name: str, instance_id: str) -> bool:
        return self._down.get((name, instance_id), 0.0) > time.monotonic()


class HealthChecker:
    """Polls every live instance's `health_path`; an instance that does not
    answer 2xx is left out of routing until it does again."""

    RECHECK_EVERY = 1.0  # seconds: how often a request may ask a left-out module's instances again

    def __init__(self, table: ModuleTable, probe: Callable[[str], Awaitable[bool]], *, interval: float) -> None:
        self.table = table
        self.probe = probe
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._rechecked: dict[str, float] = {}

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.create_task(self._run(), name="gateway-health-checks")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task, what="gateway health checks")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            with contextlib.suppress(Exception):
                await self.check_all()

    async def recheck(self, name: str) -> bool:
        """Probe a module whose every instance failed its last check, now rather than at the next
        round (at most once a second per module); True when one is healthy again."""
        now = time.monotonic()
        if now - self._rechecked.get(name, -1e9) >= self.RECHECK_EVERY:
            self._rechecked[name] = now
            await self.check_all(only=name)
        return bool(self.table.candidates(name))

    async def check_all(self, only: str | None = None) -> None:
        targets = [(name, m) for name, insts in list(self.table.instances.items()) for m in insts.values()
                   if only is None or name == only]
        results = await asyncio.gather(*(self.probe(m.base_url.rstrip("/") + m.health_path) for _, m in targets))
        bad = {(name, m.instance_id) for (name, m), ok in zip(targets, results, strict=True) if not ok}
        if only is not None:  # the other modules' standing is kept as the last round found it
            bad |= {key for key in self.table.unhealthy if key[0] != only}
        if bad != self.table.unhealthy:
            for name, instance in bad - self.table.unhealthy:
                logger.warning("module {} instance {} is unhealthy; not routing to it", name, instance)
            self.table.unhealthy = bad
