"""GET /asyncapi.json: the event catalogue (public, as the platform's OpenAPI document is)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from webos_events.catalogue import asyncapi
from webos_events.routes.deps import Resources

router = APIRouter(tags=["event catalogue"])


@router.get("/asyncapi.json", summary="The event catalogue (AsyncAPI 3.0)")
async def event_catalogue(resources: Resources) -> dict[str, Any]:
    """Every event type: its channel (NATS subject), CloudEvents headers and payload schema, who
    publishes it and who receives it."""
    return await asyncapi(resources)
