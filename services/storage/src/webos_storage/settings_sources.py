"""Sources an admin defines in the settings service, mounted while storage runs.

The `storage` system section holds `sources` shaped as `SourceConfig`; their
`password`, `private_key`, `client_secret` and `refresh_token` are secrets, so
the settings service stores them encrypted and shows them masked to anyone
but the storage service itself, which reads the section with its own service
token (`SystemSettings`). Each load (at start and on every
`settings:changed` for the section) mounts what is new, remounts what
changed and unmounts what is gone; a source id already taken by the
environment's configuration, a plugin or a module is refused and logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from loguru import logger

from webos_common.files.afs import DataSource
from webos_storage.access import Access
from webos_storage.adapters.guard import GuardedSource
from webos_storage.domain.model import SourceRules
from webos_storage.settings import SourceConfig, SourcesSection


class SettingsSources:
    def __init__(self, access: Access, make: Callable[[SourceConfig], DataSource]) -> None:
        self.access, self.make = access, make
        self.mounted: dict[str, tuple[SourceConfig, GuardedSource]] = {}
        self._lock = asyncio.Lock()

    async def sync(self, section: SourcesSection) -> None:
        async with self._lock:  # a reload waits for the one before
            wanted = {c.id: c for c in section.sources}
            for source_id, (config, _) in list(self.mounted.items()):
                if wanted.get(source_id) != config:
                    await self._unmount(source_id)
            for source_id, config in wanted.items():
                if source_id in self.mounted:
                    continue
                if source_id in self.access.sources:
                    logger.warning("settings define data source {}, which is taken: ignored", source_id)
                    continue
                if config.kind == "local":  # this host's disk: only the operator's configuration mounts it
                    logger.warning("settings define data source {} on storage's own disk: ignored", source_id)
                    continue
                await self._mount(config)

    async def _mount(self, config: SourceConfig) -> None:
        try:
            guarded = GuardedSource(self.make(config), timeout=config.timeout, retry_seconds=config.retry_seconds,
                                    read_only=config.read_only)
        except Exception:  # noqa: BLE001 - a bad definition is logged, the others still mount
            logger.exception("data source {} from the settings could not be made", config.id)
            return
        self.mounted[config.id] = (config, guarded)
        self.access.sources[config.id] = guarded
        self.access.rules[config.id] = SourceRules(config.read_permission, config.write_permission)
        try:
            await guarded.connect()
        except Exception as exc:  # noqa: BLE001 - answers 503 until it connects, as at start
            logger.warning("{} could not connect: {}", guarded.describe(), exc)
        logger.info("data source {} from the settings mounted", config.id)

    async def _unmount(self, source_id: str) -> None:
        _, guarded = self.mounted.pop(source_id)
        self.access.sources.pop(source_id, None)
        self.access.rules.pop(source_id, None)
        try:
            await guarded.disconnect()
        except Exception:  # noqa: BLE001 - it is gone either way
            logger.exception("disconnecting data source {} failed", source_id)
        logger.info("data source {} from the settings unmounted", source_id)

    async def close(self) -> None:
        async with self._lock:
            for source_id in list(self.mounted):
                await self._unmount(source_id)
