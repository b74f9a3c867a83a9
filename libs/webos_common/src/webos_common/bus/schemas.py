"""Payload schemas: `register_event(topic, Model)`.

`emit` validates a registered topic's payload before publishing; a consumer
validates again before its handler runs and dead-letters what fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from webos_common.http.errors import ValidationFailed

_SCHEMAS: dict[str, type[BaseModel]] = {}


def register_event(topic: str, model: type[BaseModel]) -> type[BaseModel]:
    """Declare the payload model of a topic (idempotent for the same model)."""
    from webos_common.bus.topics import is_pattern, topic_to_subject

    topic_to_subject(topic)
    if is_pattern(topic):
        raise ValueError("register_event takes a concrete topic, not a pattern")
    _SCHEMAS[topic] = model
    return model


def unregister_event(topic: str) -> None:
    _SCHEMAS.pop(topic, None)


def schema_for(topic: str) -> type[BaseModel] | None:
    return _SCHEMAS.get(topic)


def registered_events() -> dict[str, type[BaseModel]]:
    return dict(_SCHEMAS)


def payload_schemas(patterns: Iterable[str] = (">",), *, packages: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """The JSON Schema (as sent: serialization mode) of every registered topic under `patterns`,
    only those whose model is defined in one of `packages` when given (the event catalogue's input)."""
    from webos_common.bus.topics import topic_matches

    wanted = list(patterns)
    return {topic: model.model_json_schema(mode="serialization") for topic, model in sorted(_SCHEMAS.items())
            if any(topic_matches(p, topic) for p in wanted)
            and (not packages or model.__module__.split(".", 1)[0] in packages)}


def validate_payload(topic: str, payload: BaseModel | dict[str, Any] | None) -> dict[str, Any]:
    """The JSON-able payload dict; raises ValidationFailed if the schema refuses it."""
    model = _SCHEMAS.get(topic)
    if isinstance(payload, BaseModel):
        if model is not None and not isinstance(payload, model):
            payload = payload.model_dump(mode="json")
        else:
            return payload.model_dump(mode="json")
    data: dict[str, Any] = dict(payload or {})
    if model is None:
        return data
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, message=f"Invalid payload for {topic}") from exc


def parse_payload(model: type[BaseModel], topic: str, payload: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, message=f"Invalid payload for {topic}") from exc
