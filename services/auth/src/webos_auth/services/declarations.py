"""What auth knows of every permission: the kernel services' catalogue at start, and each
module's declarations as its manifest appears in the module registry (followed through the
one `RegistryView`, which drops invalid manifests and those announced under another module's
keys). A module's permissions stay known after its host stops (it is installed, only not
running)."""

from __future__ import annotations

import asyncio
import json

from loguru import logger

from webos_auth.adapters.mongo.audit import Audit
from webos_auth.adapters.mongo.roles import Roles
from webos_common.modules.manifest import ModuleManifest, PermissionSpec, owns
from webos_common.modules.registry import ModuleRegistry
from webos_common.modules.registry_view import RegistryView
from webos_common.security.catalog import KERNEL_PERMISSIONS, KERNEL_PREFIXES


class Declarations:
    def __init__(self, roles: Roles, audit: Audit, registry: ModuleRegistry | None = None) -> None:
        self.roles, self.audit = roles, audit
        self.view = RegistryView(registry) if registry is not None else None
        self.seen: dict[str, str] = {}  # module -> its declarations last recorded (heartbeats repeat them)

    async def start(self) -> None:
        groups: dict[str, list[PermissionSpec]] = {}
        for spec in KERNEL_PERMISSIONS:
            groups.setdefault(spec.group, []).append(spec)
        for group, specs in groups.items():
            await self.declare(group, specs)
        if self.view is not None:
            self.view.listeners.append(self.follow)
            await self.view.start()

    async def stop(self) -> None:
        if self.view is not None:
            await self.view.stop()

    async def declare(self, module: str, specs: list[PermissionSpec]) -> None:
        key = json.dumps([s.model_dump() for s in specs], sort_keys=True)
        if self.seen.get(module) == key:
            return
        granted = await self.roles.declare(module, [s.model_dump() for s in specs])
        self.seen[module] = key
        for name in granted:
            await self.audit.record(None, "role.permission_granted", "role:user", permission=name,
                                    reason=f"{module} grants it to every registered person by default")

    async def follow(self) -> None:
        """After each change in the registry: every live module's declarations (unchanged ones
        are skipped by `declare`), retried while MongoDB does not answer (heartbeats are not
        changes, so nothing else would bring a missed declaration back)."""
        assert self.view is not None
        delay = 0.5
        while not self.view.stopping:
            try:
                for name in list(self.view.instances):
                    manifest = self.view.manifest(name)
                    if manifest is not None:
                        await self.apply(manifest)
                return
            except Exception as exc:  # noqa: BLE001 - a database outage: try again
                logger.warning("auth: recording modules' permissions failed ({!r}); again in {} s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def apply(self, manifest: ModuleManifest) -> None:
        if manifest.name in KERNEL_PREFIXES:
            logger.warning("module {} takes a kernel service's name: its permissions are ignored", manifest.name)
            return
        own = [spec for spec in manifest.permissions if owns(manifest.name, spec.name)]
        if len(own) < len(manifest.permissions):
            logger.warning("module {} declares permissions not its own; ignored: {}", manifest.name,
                           sorted({s.name for s in manifest.permissions} - {s.name for s in own}))
        await self.declare(manifest.name, own)
