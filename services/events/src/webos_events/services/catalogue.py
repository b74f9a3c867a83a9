"""The event catalogue: an AsyncAPI 3.0 document of every event type on the bus
(`GET /asyncapi.json`, through the gateway `/api/events/asyncapi.json`)."""

from __future__ import annotations

from typing import Any

from webos_common.http.service import ServiceResources
from webos_events.adapters.catalogue import gather
from webos_events.domain.catalogue import build


async def asyncapi(resources: ServiceResources) -> dict[str, Any]:
    return build(await gather(resources), nats_url=resources.settings.nats_url)
