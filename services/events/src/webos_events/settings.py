"""Configuration of the events service (env prefix `WEBOS_`)."""

from pydantic import Field

from webos_common.config import WebOSSettings


class EventsSettings(WebOSSettings):
    service_name: str = "events"
    port: int = 8704
    events_log_ttl: int = Field(7 * 86400, ge=60, description="seconds the event log keeps an event")
    events_notification_ttl: int = Field(30 * 86400, ge=60, description="seconds a notification is kept")
    events_max_page: int = Field(200, ge=1, le=10_000, description="cap on `limit` of every list")
    events_digest_interval: float = Field(3600, ge=1, description="seconds between mail digest rounds")
