"""Module schemas from the module registry: a manifest's `settings_schema`
(what `webos_register_settings` returned) is registered as the module's schema.

The registry is read through the shared `RegistryView` (one rule for valid
manifests, keys and precedence everywhere); a schema is saved when a module
appears or its schema changes, not on every heartbeat."""

from __future__ import annotations

import asyncio
from typing import Any

from loguru import logger

from webos_common.http.errors import WebOSError
from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry
from webos_common.modules.registry_view import RegistryView
from webos_settings.service import SettingsService

RETRY_EVERY = 5.0  # seconds: a schema that could not be saved (MongoDB away) is tried again


async def register_from(service: SettingsService, manifest: ModuleManifest) -> bool:
    """Save the manifest's schema; False when it could not be saved now (worth trying again)."""
    if manifest.settings_schema is None:
        return True
    try:
        await service.save_schema(manifest.name, manifest.settings_schema, None, source="manifest")
    except WebOSError as exc:
        if exc.status >= 500:
            logger.warning("settings: schema of module {} not saved yet: {}", manifest.name, exc.message)
            return False
        logger.warning("settings: schema of module {} refused: {}", manifest.name, exc.message)
    except Exception as exc:  # noqa: BLE001 - MongoDB away: tried again
        logger.warning("settings: schema of module {} not saved yet: {}", manifest.name, type(exc).__name__)
        return False
    return True


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
            if await register_from(self.service, manifest):
                self.seen[name] = manifest.settings_schema


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
        while True:  # heartbeats are no changes to the view: a schema not saved yet is retried here
            await follower.sync()
            await asyncio.sleep(RETRY_EVERY)
    finally:
        await follower.view.stop()
