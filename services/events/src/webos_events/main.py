"""The events service's app factory."""

from fastapi import FastAPI

from webos_common.http.service import create_service_app
from webos_events import bootstrap
from webos_events.api import catalogue, deadletters, events, live, notifications, tasks
from webos_events.settings import EventsSettings


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    settings = settings or EventsSettings()
    return create_service_app(
        "events", settings=settings, use_mongo=True, use_nats=True,
        routers=[catalogue.router, events.router, deadletters.router, notifications.router, tasks.router, live.router],
        on_startup=[bootstrap.startup], on_shutdown=[bootstrap.shutdown],
    )
