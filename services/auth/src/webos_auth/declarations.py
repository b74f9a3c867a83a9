"""What auth knows of every permission: the kernel services' catalogue at start, and each
module's declarations as its manifest appears in the module registry (NATS KV). A module's
permissions stay known after its host stops (it is installed, only not running)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import nats.errors
from loguru import logger

from webos_auth.audit import Audit
from webos_auth.roles import Roles
from webos_common.manifest import ModuleManifest, PermissionSpec, owns
from webos_common.module_registry import ModuleRegistry
from webos_common.security.catalog import KERNEL_PERMISSIONS, KERNEL_PREFIXES


class Declarations:
    def __init__(self, roles: Roles, audit: Audit, registry: ModuleRegistry | None = None) -> None:
        self.roles, self.audit, self.registry = roles, audit, registry
        self.seen: dict[str, str] = {}  # module -> its declarations last recorded (heartbeats repeat them)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        groups: dict[str, list[PermissionSpec]] = {}
        for spec in KERNEL_PERMISSIONS:
            groups.setdefault(spec.group, []).append(spec)
        for group, specs in groups.items():
            await self.declare(group, specs)
        if self.registry is not None:
            self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=2.0)

    async def declare(self, module: str, specs: list[PermissionSpec]) -> None:
        key = json.dumps([s.model_dump() for s in specs], sort_keys=True)
        if self.seen.get(module) == key:
            return
        granted = await self.roles.declare(module, [s.model_dump() for s in specs])
        self.seen[module] = key
        for name in granted:
            await self.audit.record(None, "role.permission_granted", "role:user", permission=name,
                                    reason=f"{module} grants it to every registered person by default")

    async def apply(self, key: str, value: bytes | None) -> None:
        if value is None or not key.startswith("manifest."):
            return
        try:
            manifest = ModuleManifest.model_validate_json(value)
        except ValueError:
            return
        if key.split(".")[1:2] != [manifest.name]:  # a module declares only under its own keys
            return
        if manifest.name in KERNEL_PREFIXES:
            logger.warning("module {} takes a kernel service's name: its permissions are ignored", manifest.name)
            return
        own = [spec for spec in manifest.permissions if owns(manifest.name, spec.name)]
        if len(own) < len(manifest.permissions):
            logger.warning("module {} declares permissions not its own; ignored: {}", manifest.name,
                           sorted({s.name for s in manifest.permissions} - {s.name for s in own}))
        await self.declare(manifest.name, own)

    async def _follow(self) -> None:
        """Every manifest now, then every change (polling, so `stop` ends it cleanly)."""
        assert self.registry is not None
        while not self._stopping:
            try:
                kv = await self.registry.open()
                watcher = await kv.watchall()
            except Exception:  # noqa: BLE001 - NATS away: retry
                await asyncio.sleep(0.5)
                continue
            try:
                while not self._stopping:
                    try:
                        entry = await watcher.updates(timeout=0.5)  # type: ignore[no-untyped-call]
                    except nats.errors.TimeoutError:
                        continue
                    if entry is not None:
                        await self.apply(entry.key, entry.value if entry.operation is None else None)
            except Exception as exc:  # noqa: BLE001 - reconnect and start over
                if not self._stopping:
                    logger.warning("auth: following the module registry failed ({!r}); again", exc)
                    await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(watcher.stop(), timeout=1.0)  # type: ignore[no-untyped-call]
