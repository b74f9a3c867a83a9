"""The one place that picks adapters and starts the events service's work on the bus: log
every event, deliver `notification:send`, take in dead letters, feed live push, send digests."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from webos_common.bus import EventBus
from webos_common.bus.envelope import EventEnvelope
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.http.service import ServiceResources
from webos_common.settings.client import SystemSettings
from webos_common.settings.mail import SmtpSection, smtp_from
from webos_events.adapters.eventlog_writer import EventLogWriter
from webos_events.adapters.live import LiveHub
from webos_events.adapters.mongo import LOG, ensure_indexes
from webos_events.domain.models import NotificationIn
from webos_events.services import deadletters, notifications
from webos_events.services.digest import digest_loop
from webos_events.settings import EventsSettings

LOG_CONCURRENCY = 64  # events handled side by side, and so written in one insert_many


def subscribe(bus: EventBus, db: Any) -> None:
    writer = EventLogWriter(db[LOG])

    @bus.on(">", name="event-log", validate=False, concurrency=LOG_CONCURRENCY)
    async def log_event(event: EventEnvelope) -> None:
        await writer.record(event)

    @bus.on(notifications.SEND, name="notify")
    async def deliver(event: EventEnvelope) -> None:
        note = NotificationIn.model_validate(event.payload)
        await notifications.notify(db, bus, note, id=event.id)


async def startup(app: FastAPI) -> None:
    resources: ServiceResources = app.state.resources
    settings = resources.settings
    assert isinstance(settings, EventsSettings) and resources.bus is not None and resources.nats is not None
    db = resources.db
    await ensure_indexes(db, log_ttl=settings.events_log_ttl, notification_ttl=settings.events_notification_ttl)
    subscribe(resources.bus, db)
    app.state.dead_letter_intake = asyncio.create_task(
        deadletters.intake(db, resources.nats, resources.bus.settings), name="dead-letter-intake")
    hub = LiveHub()
    await hub.start(resources.nats, resources.bus.identity)
    app.state.live = hub
    smtp = SystemSettings(resources.nats, "smtp", SmtpSection,  # an admin's SMTP server sends the digests
                          credentials=resources.credentials, settings_url=resources.settings.settings_url)
    await smtp.start()
    app.state.smtp_settings = smtp
    app.state.digest = asyncio.create_task(digest_loop(
        db, resources.nats, lambda: smtp_from(smtp), interval=settings.events_digest_interval,
        public_url=settings.public_url or ""), name="mail-digest")


async def shutdown(app: FastAPI) -> None:
    for name in ("dead_letter_intake", "digest"):
        task = getattr(app.state, name, None)
        await cancel_and_wait(task, what=f"events {name}")
    smtp = getattr(app.state, "smtp_settings", None)
    if smtp is not None:
        await smtp.close()
    hub = getattr(app.state, "live", None)
    if hub is not None:
        await hub.stop()
