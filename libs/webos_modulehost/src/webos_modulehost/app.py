"""`create_app(name)`: one module on `create_service_app`.

Start: migrations (once, recorded) -> Beanie with only this module's
documents -> outbox relay -> event handlers -> task client and scheduled
jobs (on the one scheduler, `webos_common.processes.schedule`) -> `webos_startup` ->
announce the manifest and heartbeat. Stop: the reverse, withdrawing the
manifest first so the gateway stops routing here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from loguru import logger

from webos_common.bus import EventBus
from webos_common.documents import EventPublisher, OutboxPublisher, db, documents
from webos_common.documents.grants import ReadGrants
from webos_common.documents.outbox import Outbox, OutboxRelay
from webos_common.documents.sharing import AuthDirectory, Directory, RecordRules
from webos_common.files.remote import SourceServer
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.http.service import ServiceResources, create_service_app
from webos_common.modules.hooks import AT_ONCE, ModuleContext
from webos_common.modules.registry import ModuleRegistry
from webos_common.modules.service_registry import ServiceRegistry
from webos_common.processes.saga import SagaStore
from webos_common.processes.schedule import DueTimes, Scheduler
from webos_common.security import current_user, require_permission
from webos_common.settings.client import ModuleSettings
from webos_modulehost import manifest as manifests
from webos_modulehost import migrations, scheduled
from webos_modulehost.discovery import LoadedModule, load
from webos_modulehost.principal import uses_tasks
from webos_modulehost.settings import ModuleHostSettings


def create_app(name: str | None = None, *, settings: ModuleHostSettings | None = None) -> FastAPI:
    name = name or os.environ.get("WEBOS_MODULE", "")
    if not name:
        raise RuntimeError("which module? pass a name (webos-module-host <name>) or set WEBOS_MODULE")
    settings = settings or ModuleHostSettings(module=name, service_name=name)
    mod = load(name, modules_dir=settings.modules_dir, settings=settings)
    host = _Host(mod, settings)
    app = create_service_app(name, settings=settings, documents=(), on_startup=[host.start],
                             on_shutdown=[host.stop], version=mod.version)
    app.state.services = host.services
    app.state.module = mod
    _mount(app, mod, host.services)
    if mod.shell_components and settings.module_ui:
        from webos_modulehost import ui

        ui.mount(app, mod, settings)
    return app


def _mount(app: FastAPI, mod: LoadedModule, services: ServiceRegistry) -> None:
    prefix = f"/api/{mod.name}"
    if mod.public_router is not None:
        app.include_router(mod.public_router, prefix=f"{prefix}/public", tags=[f"{mod.name} (public)"])
    if mod.sagas:  # before the module's admin router: its `/sagas/...` is this one
        from webos_modulehost import sagas

        app.include_router(sagas.router_for(mod.name, mod.sagas, lambda: services.get(SagaStore)),
                           dependencies=[Depends(require_permission(f"{mod.name}.admin"))])
    if mod.admin_router is not None:
        app.include_router(mod.admin_router, prefix=f"{prefix}/admin", tags=[f"{mod.name} admin"],
                           dependencies=[Depends(require_permission(f"{mod.name}.admin"))])
    from webos_modulehost import transfer  # not at import: `--declare` needs none of it

    for spec in mod.collections:  # before the module's routes: `GET <path>/export` is not `GET <path>/{id}`
        app.include_router(transfer.router_for(spec, mod.name))
    if mod.router is not None:
        app.include_router(mod.router, prefix=prefix, tags=[mod.name], dependencies=[Depends(current_user)])
    for router in mod.extra_routers:
        app.include_router(router)
    if mod.static_dir is not None:  # public: the browser fetches these without a bearer token
        app.mount(f"{prefix}/static", StaticFiles(directory=mod.static_dir), name=f"{mod.name}-static")


class _Host:
    def __init__(self, mod: LoadedModule, settings: ModuleHostSettings) -> None:
        self.mod, self.settings = mod, settings
        self.services = ServiceRegistry()
        self.instance = manifests.instance_id()
        self.relay: OutboxRelay | None = None
        self.scheduler: Scheduler | None = None
        self.registry: ModuleRegistry | None = None
        self.heartbeat: asyncio.Task[None] | None = None
        self.ctx: ModuleContext | None = None
        self.tasks_started = False
        self.config: ModuleSettings[Any] | None = None
        self.sources: SourceServer | None = None

    async def start(self, app: FastAPI) -> None:
        resources: ServiceResources = app.state.resources
        mod, database = self.mod, resources.db
        applied = await migrations.run_pending(mod.name, mod.migrations_dir, database)
        if applied:
            logger.info("module {}: applied migrations {}", mod.name, ", ".join(applied))
        assert resources.mongo is not None
        await db.init_documents(resources.mongo, self.settings.mongo_db, mod.documents)
        for document in mod.documents:
            documents.register(document)
        outbox = Outbox(database, service=mod.name, identity=resources.bus.identity if resources.bus else None)
        await outbox.ensure_indexes()
        self.services.register(EventPublisher, OutboxPublisher(outbox))
        self.services.register(Outbox, outbox)
        self.services.register(ReadGrants, ReadGrants(database, mod.reads, module=mod.name))
        if mod.sagas:  # one store for the module's sagas, before anything may run one
            store = SagaStore(database, collection=f"{mod.name}_sagas")
            self.services.register(SagaStore, store, replace=True)
            for saga in mod.sagas:
                saga.store = store
        bus = resources.bus
        if bus is not None:
            self.services.register("bus", bus)
            self.relay = OutboxRelay(outbox, bus)
            self.relay.start()
            for topic, handler in mod.handlers.items():
                bus.subscribe(topic, handler, concurrency=getattr(handler, AT_ONCE, 1))
        await self._start_tasks(bus)
        if mod.settings_model is not None and resources.nats is not None:
            self.config = ModuleSettings(resources.nats, mod.name, mod.settings_model,  # over HTTP with a credential
                                         credentials=resources.credentials, settings_url=self.settings.settings_url)
            await self.config.start()
            self.services.register(ModuleSettings, self.config)
        self.services.register(RecordRules, RecordRules(self.config))
        if resources.credentials is not None:  # who may be shared with or assigned: auth's directory
            self.services.register(Directory, AuthDirectory(self.settings.auth_url, resources.credentials))
        self.ctx = ModuleContext(name=mod.name, settings=self.settings, resources=resources, services=self.services,
                                 config=self.config)
        self._schedule(resources, self.ctx)
        for result in mod.pm.hook.webos_startup(ctx=self.ctx):
            if asyncio.iscoroutine(result):
                await result
        if resources.nats is not None:
            await self._serve_sources(resources)
            await self._announce(app, resources)

    def _schedule(self, resources: ServiceResources, ctx: ModuleContext) -> None:
        """The module's jobs on the one scheduler (its due times in NATS KV)."""
        jobs = scheduled.schedules(self.mod.name, self.mod.jobs, ctx)
        if not jobs:
            return
        if resources.nats is None:
            logger.warning("module {}: no NATS, so its scheduled jobs do not run here", self.mod.name)
            return
        times = DueTimes(resources.nats.jetstream(), create=self.settings.may_provision)
        self.scheduler = Scheduler(times, jobs, tick=self.settings.job_poll, name=f"scheduler:{self.mod.name}")
        if self.settings.scheduler:
            self.scheduler.start()
        self.services.register(Scheduler, self.scheduler)

    async def _serve_sources(self, resources: ServiceResources) -> None:
        """Answer storage's calls to the module's data sources (before the manifest says they exist)."""
        if not self.mod.data_sources or resources.nats is None:
            return
        for source in self.mod.data_sources:
            await source.connect()
        self.sources = SourceServer(resources.nats, self.mod.name, self.instance, self.mod.data_sources)
        await self.sources.start()

    async def _start_tasks(self, bus: EventBus | None) -> None:
        from webos_common import tasks

        if uses_tasks(self.mod):  # tasks queued for a person carry the bus's identity token for them
            await tasks.start(self.settings.nats_url, credential_file=self.settings.credential_file,
                              principal=self.settings.principal or self.mod.name,
                              identity=bus.identity if bus is not None else None,
                              ca_file=self.settings.nats_ca_file)
            self.tasks_started = True

    async def _announce(self, app: FastAPI, resources: ServiceResources) -> None:
        assert resources.nats is not None
        self.registry = ModuleRegistry.of(resources.nats.jetstream(), self.settings, ttl=self.settings.heartbeat_ttl)
        manifest = manifests.build(self.mod, app, self.settings, self.instance)
        app.state.manifest = manifest
        await self.registry.announce(manifest)
        self.heartbeat = asyncio.create_task(self.registry.heartbeat(manifest), name=f"heartbeat:{self.mod.name}")
        logger.info("module {} announced as {} at {}", self.mod.name, self.instance, manifest.base_url)

    async def stop(self, app: FastAPI) -> None:
        if self.heartbeat is not None:
            await cancel_and_wait(self.heartbeat, what="module heartbeat")
        if self.registry is not None:
            with contextlib.suppress(Exception):
                await self.registry.withdraw(self.mod.name, self.instance)
        from webos_modulehost.transfer import jobs

        await jobs.stop_all()  # an import or export still running ends as cancelled, and says so
        if self.sources is not None:
            await self.sources.stop()
            for source in self.mod.data_sources:
                with contextlib.suppress(Exception):
                    await source.disconnect()
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.config is not None:
            await self.config.close()
        if self.ctx is not None:
            for result in self.mod.pm.hook.webos_shutdown(ctx=self.ctx):
                if asyncio.iscoroutine(result):
                    await result
        if self.relay is not None:
            with contextlib.suppress(Exception):
                await self.relay.run_once()
            await self.relay.stop()
        if self.tasks_started:
            from webos_common import tasks

            await tasks.stop()
        http = getattr(app.state, "ui_http", None)
        if http is not None:
            await http.aclose()
