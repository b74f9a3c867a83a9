"""Who sends and receives which events, and their payload schemas: the catalogue's input.

* the kernel services and task workers: the bus roles in `webos_common`
  (`KERNEL_EVENTS`, `WORKER_EVENTS`), which their NATS credentials are built
  from; their payload schemas from each service's `/event-schemas.json`
  (their models live in their own packages, which this service never imports);
* modules: the manifests their hosts announce in the module registry
  (`events_emitted`, `events_consumed`, `event_schemas`);
* schemas `webos_common` and this service define, from this process.

A source may describe only the topics it may emit: a schema for anything else is ignored.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from loguru import logger

from webos_common.bus.schemas import payload_schemas
from webos_common.http.service import ServiceResources
from webos_common.modules.registry import ModuleRegistry, newest
from webos_common.security.nats_permissions import KERNEL_EVENTS, WORKER_EVENTS
from webos_events.domain.catalogue import Participant, Sources

WORKER = "worker"  # stands for every `<name>-worker` principal
LOCAL_PACKAGES = ("webos_common", "webos_events")


async def gather(resources: ServiceResources) -> Sources:
    sources = Sources()
    sources.add_schemas("common", [">"], payload_schemas(packages=LOCAL_PACKAGES))
    for name, role in KERNEL_EVENTS.items():
        sources.participants.append(Participant(name, "service", role.emits, role.receives))
    sources.participants.append(Participant(WORKER, "worker", WORKER_EVENTS.emits, [],
                                            description="every task worker (`<name>-worker`)"))
    await _kernel_schemas(resources, sources)
    await _modules(resources, sources)
    return sources


async def _kernel_schemas(resources: ServiceResources, sources: Sources) -> None:
    settings = resources.settings
    urls = {"auth": settings.auth_url, "storage": settings.storage_url, "settings": settings.settings_url}
    async with httpx.AsyncClient(timeout=2.0) as client:
        fetched = await asyncio.gather(*(_fetch(client, f"{url.rstrip('/')}/event-schemas.json")
                                         for url in urls.values()))
    for name, schemas in zip(urls, fetched, strict=True):
        sources.status[name] = "ok" if schemas is not None else "unavailable"
        sources.add_schemas(name, KERNEL_EVENTS[name].emits, schemas or {})


async def _fetch(client: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
    try:
        response = await client.get(url)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


async def _modules(resources: ServiceResources, sources: Sources) -> None:
    if resources.nats is None:
        sources.status["modules"] = "unavailable"
        return
    registry = ModuleRegistry.of(resources.nats.jetstream(), resources.settings)
    try:
        live = await asyncio.wait_for(registry.live(), timeout=3.0)
    except Exception as exc:  # noqa: BLE001 - the kernel's part of the catalogue still answers
        logger.warning("event catalogue: the module registry is out of reach: {}", exc)
        sources.status["modules"] = "unavailable"
        return
    sources.status["modules"] = "ok"
    for name, instances in sorted(live.items()):
        manifest = newest(instances)
        if manifest is None:
            continue
        sources.participants.append(Participant(name, "module", manifest.events_emitted, manifest.events_consumed,
                                                version=manifest.version, description=manifest.description))
        sources.add_schemas(name, manifest.events_emitted, manifest.event_schemas)
