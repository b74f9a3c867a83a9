"""The manifest a host announces: what the gateway routes and the shell shows."""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from webos_common.bus.schemas import payload_schemas
from webos_common.files.remote import wire as afs_remote
from webos_common.modules.manifest import Collection, ModuleManifest
from webos_modulehost.discovery import LoadedModule
from webos_modulehost.principal import emitted
from webos_modulehost.settings import ModuleHostSettings


def instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}".replace(".", "-")


def base_url(settings: ModuleHostSettings) -> str:
    """Where the gateway reaches this host: WEBOS_ADVERTISE_URL; else WEBOS_PUBLIC_URL when it
    names this host (compose, Kubernetes) rather than the platform (it equals the gateway's
    URL under `webos up`); else http://<host>:<port>."""
    if settings.advertise_url:
        return settings.advertise_url.rstrip("/")
    public = (settings.public_url or "").rstrip("/")
    if public and public != settings.gateway_url.rstrip("/"):
        return public
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


RECORD_ACTIONS = ("created", "updated", "deleted", "restored")  # BaseService.emit: the record's read shape
PURGED = {"title": "Purged", "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}


def event_schemas(mod: LoadedModule) -> dict[str, dict[str, Any]]:
    """The payload schema of each topic it emits: its services' record events (the read model, plus
    `changed` on `updated`), then every model registered with `register_event` (which wins)."""
    schemas: dict[str, dict[str, Any]] = {}
    for svc in mod.services:
        read = getattr(svc, "read_schema", None)
        if isinstance(read, type) and issubclass(read, BaseModel):
            schema = read.model_json_schema(mode="serialization")
            schemas |= {f"{svc.entity}:{action}": schema for action in RECORD_ACTIONS}
        schemas[f"{svc.entity}:purged"] = PURGED
    return schemas | payload_schemas(emitted(mod))


def build(mod: LoadedModule, app: FastAPI, settings: ModuleHostSettings, instance: str) -> ModuleManifest:
    name = mod.name
    prefix = f"/api/{name}"
    routes = [{"path": path, "methods": sorted(m.upper() for m in ops), "name": next(
                   (op.get("operationId", "") for op in ops.values()), "")}
              for path, ops in app.openapi().get("paths", {}).items() if path.startswith(prefix)]
    models: dict[str, dict[str, Any]] = {}
    collections = []
    for spec in mod.collections:
        for model in (spec.read, spec.create, spec.update):
            if model is not None:
                models[model.__name__] = model.model_json_schema()
        collections.append(Collection(
            name=spec.name, label=spec.label, endpoint=f"{prefix}{spec.path}", model=spec.read.__name__,
            create_model=spec.create.__name__ if spec.create else None,
            update_model=spec.update.__name__ if spec.update else None,
            permission_read=f"{name}.read", permission_write=f"{name}.write", trash=spec.trash))
    search = f"{prefix}/search"
    has_search = any(route["path"] == search and "GET" in route["methods"] for route in routes)
    public = [f"{prefix}/{part}" for part, present in (("public", mod.public_router), ("static", mod.static_dir))
              if present]  # routed by the gateway without sign-in
    return ModuleManifest(
        name=name, version=mod.version, description=mod.description, instance_id=instance,
        base_url=base_url(settings), public_prefixes=public,
        routes=routes, permissions=mod.permissions,
        nav=mod.nav, commands=mod.commands, widgets=mod.widgets, admin_pages=mod.admin_pages,
        collections=collections, ui_components=[c.entry() for c in mod.shell_components],
        search_endpoint=search if has_search else None, reads=mod.reads,
        settings_schema=mod.settings_model.model_json_schema() if mod.settings_model else None,
        models=models, events_emitted=emitted(mod), events_consumed=sorted(mod.handlers),
        event_schemas=event_schemas(mod),
        data_sources=[afs_remote.entry(source.id, source.capabilities()) for source in mod.data_sources],
        sagas=[saga.name for saga in mod.sagas],
    )
