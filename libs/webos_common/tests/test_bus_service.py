"""Every service app built with NATS carries a started bus."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import FastAPI

from webos_common.bus.envelope import EventEnvelope
from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.testing import lifespan_client


async def test_handlers_subscribed_in_on_startup_get_events(webos_env) -> None:
    topic = f"e{uuid.uuid4().hex[:8]}:happened"
    seen: list[EventEnvelope] = []

    async def subscribe(app: FastAPI) -> None:
        async def handler(event: EventEnvelope) -> None:
            seen.append(event)

        app.state.resources.bus.subscribe(topic, handler)

    name = f"svc{uuid.uuid4().hex[:6]}"
    app = create_service_app(name, settings=WebOSSettings(service_name=name), use_mongo=False,
                             on_startup=[subscribe])
    async with lifespan_client(app):
        bus = app.state.resources.bus
        sent = await bus.emit(topic, {"x": 1})
        for _ in range(250):
            if seen:
                break
            await asyncio.sleep(0.02)
    assert [e.id for e in seen] == [sent.id]
    assert seen[0].source == name
