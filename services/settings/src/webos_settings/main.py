"""The settings service's app factory."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping

from fastapi import FastAPI
from loguru import logger
from nats.aio.msg import Msg

from webos_common.bus.wire import envelope_of
from webos_common.errors import NotFound, ValidationFailed, WebOSError
from webos_common.identity import User
from webos_common.module_registry import ModuleRegistry
from webos_common.security.keyring import Keyring
from webos_common.service import create_service_app
from webos_common.settings import MODULE_SUBJECT, SYSTEM_SUBJECT, USER_SUBJECT
from webos_settings.adapters.events import SUBJECT, ChangePublisher
from webos_settings.adapters.mongo import MongoSettingsStore
from webos_settings.api import router
from webos_settings.domain.scope import Scope
from webos_settings.manifests import follow_registry
from webos_settings.service import SettingsService
from webos_settings.settings import SettingsSettings


def keyring_from(settings: SettingsSettings) -> Keyring:
    return Keyring(settings.settings_master_key.get_secret_value(), settings.old_master_keys())


def _forget_changed(service: SettingsService, data: bytes, headers: Mapping[str, str] | None = None) -> None:
    try:
        payload = envelope_of(headers, data).payload
    except ValidationFailed:
        service.forget_schema()
        return
    if payload.get("schema_changed"):
        service.forget_schema(payload.get("module"))


# the platform's own processes reading over NATS: a module its module layer, a service a
# system section (both with secrets in clear)
_PLATFORM_READER = User(id="system", username="platform-settings",
                        permissions=("settings.admin", "settings.secrets.read"))


async def answer_read(service: SettingsService, msg: Msg) -> None:
    """`webos.settings.module.<module>` / `webos.settings.system.<section>` / `webos.settings.user`
    (body `{"module", "user_id"}`: the person's values over the module's) →
    `{"values", "explicit", "version"}` or `{"error"}` (a 404 before a module's schema
    is registered)."""
    _, _, layer, name = [*msg.subject.split("."), "", "", "", ""][:4]
    try:
        user_id = None
        if layer == "user":  # `webos.settings.user` {"module", "user_id"}: user ids may hold dots
            body = json.loads(msg.data or b"{}")
            name, user_id = str(body.get("module", "")), str(body.get("user_id", ""))
        elif layer not in ("module", "system"):
            raise NotFound(f"no settings layer {layer!r}")
        scope = Scope(layer, name, user_id)  # type: ignore[arg-type]
        read = await service.read(scope, user=_PLATFORM_READER, reveal=True)
        answer: dict[str, object] = {"values": read["values"], "explicit": read["explicit"],
                                     "version": read["version"]}
    except WebOSError as exc:
        answer = {"error": {"code": exc.code, "message": exc.message}}
    except ValueError as exc:  # an unreadable request body
        answer = {"error": {"code": "bad_request", "message": str(exc)}}
    except Exception as exc:  # noqa: BLE001 - the asker must hear something, not time out
        logger.exception("settings: platform read of {} {} failed", layer, name)
        answer = {"error": {"code": "internal", "message": type(exc).__name__}}
    with contextlib.suppress(Exception):
        await msg.respond(json.dumps(answer, default=str).encode())


def create_app(settings: SettingsSettings | None = None) -> FastAPI:
    settings = settings or SettingsSettings()

    async def start(app: FastAPI) -> None:
        resources = app.state.resources
        store = MongoSettingsStore(resources.mongo, settings.mongo_db)
        await store.ensure_indexes()
        service = SettingsService(store=store, keyring=keyring_from(settings), publisher=ChangePublisher(resources))
        app.state.settings_service = service
        if resources.nats is not None:  # another replica changed a schema: drop our copy
            async def on_changed(msg: Msg) -> None:
                _forget_changed(service, msg.data, msg.headers)

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
                # (it hung shutdown: see webos_common.lifecycle)
                app.state.registry_task = resources.spawn(follow_registry(service, registry), name="registry")

    return create_service_app("settings", settings=settings, use_mongo=True, routers=[router],
                              on_startup=[start])
