"""Modules' data sources, mounted from the registry while storage runs.

A module host announces the sources it serves (`ModuleManifest.data_sources`);
this keeps one `RemoteDataSource` per announced source in the same map as
the configured ones, so `fs://<source>/…` works with the same API, access
rules and index. A module that starts is mounted at once, one that stops or
is disabled unmounted; a source id already taken (a configured source, or
another module's) is refused and logged, never replaced.
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from webos_common.files.afs import DataSource
from webos_common.files.remote import RemoteDataSource
from webos_common.modules.registry_view import RegistryView


class ModuleSources:
    def __init__(self, view: RegistryView, nc: Any, sources: dict[str, DataSource], *, timeout: float = 15.0) -> None:
        self.view, self.nc, self.sources, self.timeout = view, nc, sources, timeout
        self.mounted: dict[str, RemoteDataSource] = {}  # the sources this keeps (never a configured one)

    async def start(self) -> None:
        self.view.listeners.append(self.sync)
        await self.view.start()
        self.sync()

    async def stop(self) -> None:
        await self.view.stop()

    def sync(self) -> None:
        wanted = {entry.id: (manifest.name, entry) for manifest in self.view.modules()
                  for entry in manifest.data_sources}
        for source_id in list(self.mounted):
            module, entry = wanted.get(source_id, (None, None))
            current = self.mounted[source_id]
            if module != current.module or entry != current.info:
                del self.mounted[source_id]
                self.sources.pop(source_id, None)
                logger.info("data source {} of module {} unmounted", source_id, current.module)
        for source_id, (module, entry) in wanted.items():
            if source_id in self.mounted:
                continue
            if source_id in self.sources:
                logger.warning("module {} announces data source {}, which is taken: ignored", module, source_id)
                continue
            remote = RemoteDataSource(self.nc, module, entry, timeout=self.timeout)
            self.mounted[source_id] = self.sources[source_id] = remote
            logger.info("data source {} of module {} mounted", source_id, module)
