"""Module schemas from the module registry: a manifest's `settings_schema`
(what `webos_register_settings` returned) is registered as the module's schema."""

from __future__ import annotations

import asyncio

from loguru import logger
from pydantic import ValidationError

from webos_common.errors import WebOSError
from webos_common.manifest import ModuleManifest
from webos_common.module_registry import ModuleRegistry
from webos_settings.service import SettingsService


async def register_from(service: SettingsService, manifest: ModuleManifest) -> None:
    if manifest.settings_schema is None:
        return
    try:
        await service.save_schema(manifest.name, manifest.settings_schema, None, source="manifest")
    except WebOSError as exc:
        logger.warning("settings: schema of module {} refused: {}", manifest.name, exc.message)


async def follow_registry(service: SettingsService, registry: ModuleRegistry) -> None:
    """Register every live manifest's schema, then every one announced later (run as a task)."""
    while True:
        try:
            async for key, raw in registry.watch():
                if raw is None or not key.startswith("manifest."):
                    continue
                try:
                    manifest = ModuleManifest.model_validate_json(raw)
                except ValidationError:
                    logger.warning("settings: unreadable manifest at {}", key)
                    continue
                if key.split(".")[1:2] != [manifest.name]:  # a module registers only its own schema
                    logger.warning("settings: ignoring {} announced under {}", manifest.name, key)
                    continue
                await register_from(service, manifest)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep following after a NATS hiccup
            logger.exception("settings: registry watch failed; retrying")
            await asyncio.sleep(2.0)
