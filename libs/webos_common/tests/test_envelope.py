from datetime import UTC, datetime

import pytest

from webos_common import context
from webos_common.bus.envelope import EventEnvelope
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User


def test_json_round_trip_keeps_every_field() -> None:
    env = EventEnvelope(topic="order:paid", payload={"amount": 12.5, "items": [1, 2]}, source="billing",
                        trace_id="a" * 32, span_id="b" * 16, user_id="u1")
    again = EventEnvelope.from_json(env.to_json())
    assert again == env
    assert again.timestamp.tzinfo is not None


def test_create_stamps_current_user_and_trace() -> None:
    with context.use({"user": User(id="u7").model_dump(), "trace_id": "c" * 32, "span_id": "d" * 16,
                      "request_id": "r"}):
        env = EventEnvelope.create("file:created", {"urn": "fs://local/a"}, source="storage")
    assert (env.user_id, env.trace_id, env.span_id) == ("u7", "c" * 32, "d" * 16)


def test_cloudevent_mapping_both_ways() -> None:
    env = EventEnvelope(topic="user:created", payload={"id": "1"}, source="auth", trace_id="1" * 32,
                        span_id="2" * 16, user_id="admin", timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    ce = env.to_cloudevent()
    assert ce["specversion"] == "1.0"
    assert ce["type"] == "user:created"
    assert ce["traceparent"] == f"00-{'1' * 32}-{'2' * 16}-01"
    assert ce["authid"] == "admin"
    assert ce["time"] == "2026-01-02T03:04:05Z"
    assert ce["data"] == {"id": "1"}
    assert EventEnvelope.from_cloudevent(ce) == env


def test_missing_required_field_is_rejected_by_name() -> None:
    raw = b'{"id": "x", "payload": {}, "source": "s"}'
    with pytest.raises(ValidationFailed) as info:
        EventEnvelope.from_json(raw)
    assert [d["field"] for d in info.value.details] == ["topic"]
    assert "topic" in info.value.message


def test_cloudevent_without_source_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as info:
        EventEnvelope.from_cloudevent({"specversion": "1.0", "id": "1", "type": "a:b"})
    assert "source" in info.value.message


def test_topic_must_be_entity_action() -> None:
    with pytest.raises(ValueError, match="topic"):
        EventEnvelope(topic="no-colon", source="s")
