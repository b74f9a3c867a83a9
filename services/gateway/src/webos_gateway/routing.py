"""Where a request goes: the gateway's own endpoints, a core service, a
module host read live from the registry, or the shell.

`ModuleTable` is the shared registry view (`webos_common.modules.registry_view`), so
a module that announces is routable at once and one whose heartbeat lapses
(the server's delete marker) is dropped without a restart; on top it keeps
only the gateway's own state about upstream instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from loguru import logger

from webos_common.http.lifecycle import cancel_and_wait
from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry
from webos_common.modules.registry_view import RegistryView
from webos_common.modules.shell_frame import ui_prefix
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
        """A module's view (`webos_common.modules.shell_frame`)."""
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


class ModuleTable(RegistryView):
    """The shared registry view (`webos_common.modules.registry_view`: validity, `enabled`, precedence)
    plus what only the gateway keeps: round-robin picking, instances that refused a connection
    lately, those that failed their last health check, and each module's public paths."""

    def __init__(self, registry: ModuleRegistry, *, backoff: float = 5.0) -> None:
        super().__init__(registry)
        self.backoff = backoff
        self._down: dict[tuple[str, str], float] = {}
        self.unhealthy: set[tuple[str, str]] = set()  # failed their last active health check
        self._cursor: dict[str, itertools.count[int]] = {}
        self.public: dict[str, tuple[str, ...]] = {}
        self.listeners.append(self._index_public)

    async def start(self) -> None:
        """Unlike the other readers, the gateway starts while NATS is away (it answers 503s)."""
        await self.start_following(wait=5.0)

    def announced(self, name: str, instance: str) -> None:
        """A heartbeat: the instance answers again."""
        self._down.pop((name, instance), None)

    def _index_public(self) -> None:
        self.public = {name: tuple({_gateway_path(name, p) for m in insts.values() for p in m.public_prefixes})
                       for name, insts in self.instances.items()}

    # -- reads ---------------------------------------------------------------
    def manifests(self) -> dict[str, ModuleManifest]:
        """One manifest per live, enabled module (for OpenAPI and public paths)."""
        return {m.name: m for m in self.modules()}

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
