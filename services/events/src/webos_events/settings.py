"""Configuration of the events service (env prefix `WEBOS_`)."""

from webos_common.config import WebOSSettings


class EventsSettings(WebOSSettings):
    service_name: str = "events"
