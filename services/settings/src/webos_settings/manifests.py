"""Module schemas from the module registry: a manifest's `settings_schema`
(what `webos_register_settings` returned) is registered as the module's schema.

The registry is read through the shared `RegistryView` (one rule for valid
manifests, keys and precedence everywhere); a schema is saved when a module
appears or its schema changes, not on every heartbeat."""

from __future__ import annotations

import asyncio
from typing import Any

from loguru import logger

from webos_common.errors import WebOSError
from webos_common.manifest import ModuleManifest
from webos_common.module_registry import ModuleRegistry
from webos_common.registry_view import RegistryView
from webos_settings.service import SettingsService


async def register_from(service: SettingsService, manifest: ModuleManifest) -> None:
    if manifest.settings_schema is None:
        return
    try:
        await service.save_schema(manifest.name, manifest.settings_schema, None, source="manifest")
    except WebOSError as exc:
        logger.warning("settings: schema of module {} refused: {}", manifest.name, exc.message)


class SchemaFollower:
    """Registers each live module's schema once per distinct schema it announces."""

    def __init__(self, service: SettingsService, registry: ModuleRegistry) -> None:
        self.service = service
        self.view = RegistryView(registry)
        self.seen: dict[str, Any] = {}
        self.view.listeners.append(self.sync)

    async def sync(self) -> None:
        for name in list(self.view.instances):
            manifest = self.view.manifest(name)
            if manifest is None or manifest.settings_schema is None or self.seen.get(name) == manifest.settings_schema:
                continue
            self.seen[name] = manifest.settings_schema
            await register_from(self.service, manifest)


async def follow_registry(service: SettingsService, registry: ModuleRegistry) -> None:
    """Register every live manifest's schema, then every one announced later (run as a task;
    cancel it to stop)."""
    follower = SchemaFollower(service, registry)
    try:
        while True:
            try:
                await follower.view.start()  # then the view follows (and reloads after) NATS hiccups
                break
            except Exception:  # noqa: BLE001 - registry not readable yet: keep trying
                logger.warning("settings: module registry not readable; retrying")
                await asyncio.sleep(2.0)
        await follower.sync()
        await asyncio.Event().wait()
    finally:
        await follower.view.stop()
