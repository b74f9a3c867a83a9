"""The storage service's app factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from webos_common.http.service import create_service_app
from webos_common.modules.registry import ModuleRegistry
from webos_common.modules.registry_view import RegistryView
from webos_common.settings.client import SystemSettings
from webos_storage import bootstrap
from webos_storage.api import router, shares_router
from webos_storage.cleanup import sweep_periodically, sweep_stale_uploads
from webos_storage.module_sources import ModuleSources
from webos_storage.settings import SourcesSection, StorageSettings
from webos_storage.settings_sources import SettingsSources


def create_app(settings: StorageSettings | None = None, **adapters: Any) -> FastAPI:
    """`adapters` go to `bootstrap.build` (sources=, index=, trash=, bus=)."""
    settings = settings or StorageSettings()

    async def start(app: FastAPI) -> None:
        resources = app.state.resources
        app.state.storage = await bootstrap.build(settings, db=resources.db, resources=resources, **adapters)
        resources.checks["sources"] = app.state.storage.check_sources
        sources, stale = app.state.storage.sources, settings.storage_stale_upload_seconds
        await sweep_stale_uploads(sources, older_than=stale)  # a crash's temp files, open multipart uploads
        resources.spawn(sweep_periodically(sources, older_than=stale, interval=settings.storage_sweep_interval),
                        name="upload-sweeper")

        async def swept(source: Any) -> None:  # a source that was down at start is swept once it is up
            await sweep_stale_uploads({source.id: source}, older_than=stale)

        for gate in app.state.storage.gates(then=swept):
            resources.spawn(gate.wait(), name=f"gate:{gate.what}")
        app.state.max_upload_bytes = settings.storage_max_upload_bytes
        if resources.nats is not None:  # modules' data sources, served by their hosts
            view = RegistryView(ModuleRegistry.of(resources.nats.jetstream(), settings))
            app.state.module_sources = ModuleSources(view, resources.nats, app.state.storage.sources,
                                                     timeout=settings.storage_module_source_timeout)
            await app.state.module_sources.start()
            await _settings_sources(app, settings)

    async def stop(app: FastAPI) -> None:
        live = getattr(app.state, "sources_settings", None)
        if live is not None:
            await live.close()
            await app.state.settings_sources.close()
        if getattr(app.state, "module_sources", None) is not None:
            await app.state.module_sources.stop()
        container = getattr(app.state, "storage", None)
        if container is not None:
            await container.close()

    return create_service_app("storage", settings=settings, use_mongo=True, routers=[router, shares_router],
                              on_startup=[start], on_shutdown=[stop])


async def _settings_sources(app: FastAPI, settings: StorageSettings) -> None:
    """Mount the sources an admin defines in the settings service's `storage` section, read with
    storage's own service token (their secrets in clear only for it), and follow their changes."""
    resources, container = app.state.resources, app.state.storage
    mounted = SettingsSources(container.access, lambda config: bootstrap.make_source(config, settings))
    live = SystemSettings(resources.nats, "storage", SourcesSection, credentials=resources.credentials,
                          settings_url=settings.settings_url)
    live.listeners.append(mounted.sync)
    app.state.settings_sources, app.state.sources_settings = mounted, live
    await live.start()
