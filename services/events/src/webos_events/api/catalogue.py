"""GET /asyncapi.json: the event catalogue (public, as the platform's OpenAPI document is)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from webos_events.api.deps import Resources
from webos_events.services.catalogue import asyncapi

router = APIRouter(tags=["event catalogue"])
FRESH_SECONDS = 10.0  # anyone may ask: one build (three HTTP calls, a registry read) per this long


@router.get("/asyncapi.json", summary="The event catalogue (AsyncAPI 3.0)")
async def event_catalogue(request: Request, resources: Resources) -> dict[str, Any]:
    """Every event type: its channel (NATS subject), CloudEvents headers and payload schema, who
    publishes it and who receives it."""
    cached: tuple[float, dict[str, Any]] | None = getattr(request.app.state, "event_catalogue", None)
    if cached is not None and time.monotonic() - cached[0] < FRESH_SECONDS:
        return cached[1]
    document = await asyncapi(resources)
    request.app.state.event_catalogue = (time.monotonic(), document)
    return document
