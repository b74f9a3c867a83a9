"""Envelope ↔ NATS message headers, and the context a handler runs under."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webos_common import context
from webos_common.envelope import EventEnvelope

MSG_ID = "Nats-Msg-Id"
SOURCE = "webos-source"
TOPIC = "webos-topic"


def envelope_headers(envelope: EventEnvelope, user: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Headers for an envelope: msg id (de-dup), traceparent, user and source."""
    headers: dict[str, str] = {MSG_ID: envelope.id, SOURCE: envelope.source, TOPIC: envelope.topic}
    snapshot: dict[str, Any] = {
        "trace_id": envelope.trace_id, "span_id": envelope.span_id, "user": user,
        "request_id": context.request_id.get(),
    }
    headers.update(context.to_headers(snapshot))
    if envelope.user_id:
        headers[context.USER_ID] = envelope.user_id
    return headers


def current_user_snapshot() -> dict[str, Any] | None:
    user = context.current_user.get()
    return user.model_dump(mode="json") if user else None


def handler_context(envelope: EventEnvelope, headers: Mapping[str, str] | None) -> dict[str, Any]:
    """The context snapshot a handler of this envelope runs under (the emitter's)."""
    snapshot = context.from_headers(dict(headers or {}))
    if envelope.trace_id:
        snapshot["trace_id"] = envelope.trace_id
    snapshot["span_id"] = context.new_span_id()
    if snapshot.get("user") is None and envelope.user_id:
        snapshot["user"] = {"id": envelope.user_id}
    if snapshot.get("user") and envelope.user_id and snapshot["user"].get("id") != envelope.user_id:
        snapshot["user"] = {"id": envelope.user_id}
    return snapshot
