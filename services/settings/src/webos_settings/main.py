"""The settings service's app factory."""

from __future__ import annotations

from fastapi import FastAPI
from nats.aio.msg import Msg

from webos_common.http.service import create_service_app
from webos_common.modules.registry import ModuleRegistry
from webos_common.settings.client import MODULE_SUBJECT, SYSTEM_SUBJECT, USER_SUBJECT
from webos_settings import bootstrap
from webos_settings.adapters.events import SUBJECT
from webos_settings.api import router
from webos_settings.manifests import follow_registry
from webos_settings.replies import answer_read, forget_changed
from webos_settings.settings import SettingsSettings


def create_app(settings: SettingsSettings | None = None) -> FastAPI:
    settings = settings or SettingsSettings()

    async def start(app: FastAPI) -> None:
        resources = app.state.resources
        service = await bootstrap.build(settings, resources)
        app.state.settings_service = service
        if resources.nats is not None:  # another replica changed a schema: drop our copy
            async def on_changed(msg: Msg) -> None:
                forget_changed(service, msg.data, msg.headers)

            await resources.nats.subscribe(SUBJECT, cb=on_changed)

            async def on_read(msg: Msg) -> None:
                await answer_read(service, msg)

            # a queue group: one replica answers each request
            for prefix in (MODULE_SUBJECT, SYSTEM_SUBJECT):
                await resources.nats.subscribe(f"{prefix}.*", queue="settings", cb=on_read)
            await resources.nats.subscribe(USER_SUBJECT, queue="settings", cb=on_read)
        app.state.registry_task = None
        app.state.module_registry = None
        if resources.nats is not None:
            registry = ModuleRegistry.of(resources.nats.jetstream(), resources.settings)
            app.state.module_registry = registry  # the module switch (PUT /modules/{module}/enabled)
            if settings.settings_watch_registry:
                # stopped by the service app within its shutdown deadline, even when the cancel is lost
                # (it hung shutdown: see webos_common.http.lifecycle)
                app.state.registry_task = resources.spawn(follow_registry(service, registry), name="registry")

    return create_service_app("settings", settings=settings, use_mongo=True, routers=[router],
                              on_startup=[start])
