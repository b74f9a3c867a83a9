"""The event envelope, and its CloudEvents 1.0 structured-JSON form.

CloudEvents mapping: `id`↔id, `topic`↔type, `source`↔source,
`timestamp`↔time, `payload`↔data; the trace travels in the
distributed-tracing extension (`traceparent`) and the user in the
authcontext extension (`authtype`, `authid`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from webos_common import context
from webos_common.http.errors import ValidationFailed

CLOUDEVENTS_SPEC = "1.0"


def _now() -> datetime:
    return datetime.now(UTC)


class EventEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1)
    topic: str = Field(min_length=3, pattern=r"^[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+$")
    payload: dict[str, Any] = Field(default_factory=dict)
    source: str = Field(min_length=1)
    trace_id: str | None = None
    span_id: str | None = None
    user_id: str | None = None
    timestamp: datetime = Field(default_factory=_now)

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @classmethod
    def create(cls, topic: str, payload: dict[str, Any], *, source: str) -> EventEnvelope:
        """A new envelope stamped with the current user and trace."""
        user = context.current_user.get()
        return cls(
            topic=topic,
            payload=payload,
            source=source,
            trace_id=context.trace_id.get(),
            span_id=context.span_id.get(),
            user_id=user.id if user else None,
        )

    # -- JSON ---------------------------------------------------------------
    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> EventEnvelope:
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc, message="Invalid event envelope") from exc

    # -- CloudEvents ----------------------------------------------------------
    def to_cloudevent(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "specversion": CLOUDEVENTS_SPEC,
            "id": self.id,
            "type": self.topic,
            "source": self.source,
            "time": self.timestamp.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": self.payload,
        }
        if self.trace_id:
            event["traceparent"] = context.format_traceparent(
                self.trace_id, self.span_id or context.new_span_id()
            )
        if self.user_id:
            event["authtype"] = "app_user"
            event["authid"] = self.user_id
        return event

    @classmethod
    def from_cloudevent(cls, event: dict[str, Any]) -> EventEnvelope:
        if event.get("specversion") != CLOUDEVENTS_SPEC:
            raise ValidationFailed(
                "Unsupported CloudEvents specversion",
                details=[{"field": "specversion", "message": f"expected {CLOUDEVENTS_SPEC!r}"}],
            )
        parsed = context.parse_traceparent(event.get("traceparent"))
        fields: dict[str, Any] = {
            "id": event.get("id"),
            "topic": event.get("type"),
            "source": event.get("source"),
            "payload": event.get("data") or {},
            "trace_id": parsed[0] if parsed else None,
            "span_id": parsed[1] if parsed else None,
            "user_id": event.get("authid"),
        }
        if event.get("time"):
            fields["timestamp"] = event["time"]
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc, message="Invalid CloudEvent") from exc
