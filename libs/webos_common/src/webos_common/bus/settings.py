"""Bus options (env prefix `WEBOS_BUS_`): streams, retries, dead letters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BusSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_BUS_", extra="ignore")

    stream: str = "WEBOS_EVENTS"
    dlq_stream: str = "WEBOS_DLQ"
    storage: Literal["file", "memory"] = "file"
    replicas: int = Field(1, ge=1, le=5)
    max_age: float = Field(7 * 86400, gt=0, description="seconds an event stays in the stream")
    dlq_max_age: float = Field(30 * 86400, gt=0)
    duplicate_window: float = Field(120, gt=0, description="seconds of de-duplication by envelope id")
    max_deliver: int = Field(5, ge=1, description="attempts before an event is dead-lettered")
    backoff: list[float] = Field(default_factory=lambda: [0.5, 2.0, 10.0, 30.0, 60.0])
    ack_wait: float = Field(30.0, gt=0)
    fetch_batch: int = Field(64, ge=1)
    publish_timeout: float = Field(5.0, gt=0)
    identity_grace: float = Field(24 * 3600.0, gt=0, description=(
        "seconds after its identity token expired that a user-scoped event may still be delivered "
        "(redeliveries, a consumer that was down); the token must have been valid when the event was emitted"))

    def delay(self, attempt: int) -> float:
        """Back-off before redelivering after failed attempt number `attempt` (1-based)."""
        if not self.backoff:
            return 0.0
        return self.backoff[min(attempt, len(self.backoff)) - 1]
