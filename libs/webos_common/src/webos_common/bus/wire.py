"""Envelope ↔ NATS message, and the context a handler runs under.

Every event is a CloudEvents 1.0 message in the *binary* content mode of the
NATS protocol binding: the context attributes are `ce-*` headers, the body is
the event data alone (`content-type: application/json`). Binary rather than
structured mode because the bus reads and checks the attributes (source,
identity, trace) before it touches the body, a subscriber that filters on
headers never parses JSON, and the header block is written straight as bytes
on the hot path. WebOS's own attributes are extensions named by the attribute
rules (lower-case letters and digits): `webosuser`, `webosidentity`,
`requestid`, plus the standard `traceparent` (distributed tracing) and
`authtype`/`authid` (authcontext).

Hot path of every event: users are serialised once per `User` object on the
way out and parsed once per distinct header on the way in.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError
from pydantic_core import from_json, to_json

from webos_common import context
from webos_common.bus.envelope import CLOUDEVENTS_SPEC, EventEnvelope
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User

MSG_ID = "Nats-Msg-Id"
SPECVERSION = "ce-specversion"
CE_ID = "ce-id"
CE_TYPE = "ce-type"
SOURCE = "ce-source"
CE_TIME = "ce-time"
CONTENT_TYPE = "content-type"
JSON = "application/json"
TRACEPARENT = "ce-traceparent"
REQUEST_ID = "ce-requestid"
USER = "ce-webosuser"
AUTHTYPE = "ce-authtype"
AUTHID = "ce-authid"
IDENTITY = "ce-webosidentity"

_USER_JSON: dict[int, tuple[User, str]] = {}


def user_json(user: User | Mapping[str, Any] | None) -> str | None:
    """The `ce-webosuser` header value for a user (cached per User object)."""
    if user is None:
        return None
    if isinstance(user, Mapping):
        return json.dumps(dict(user), separators=(",", ":"))
    hit = _USER_JSON.get(id(user))
    if hit is not None and hit[0] is user:
        return hit[1]
    raw = json.dumps(user.model_dump(mode="json"), separators=(",", ":"))
    if len(_USER_JSON) > 1024:
        _USER_JSON.clear()
    _USER_JSON[id(user)] = (user, raw)
    return raw


def _time(envelope: EventEnvelope) -> str:
    return envelope.timestamp.isoformat().replace("+00:00", "Z")


def envelope_headers(envelope: EventEnvelope, user: User | Mapping[str, Any] | None = None,
                     identity: str | None = None) -> dict[str, str]:
    """The CloudEvents binary-mode headers of an envelope, plus the msg id (de-dup)."""
    headers: dict[str, str] = {
        MSG_ID: envelope.id, SPECVERSION: CLOUDEVENTS_SPEC, CE_ID: envelope.id, CE_TYPE: envelope.topic,
        SOURCE: envelope.source, CE_TIME: _time(envelope), CONTENT_TYPE: JSON,
    }
    if envelope.trace_id:
        headers[TRACEPARENT] = context.format_traceparent(
            envelope.trace_id, envelope.span_id or context.new_span_id())
    request_id = context.request_id.get()
    if request_id:
        headers[REQUEST_ID] = request_id
    raw_user = user_json(user)
    if raw_user:
        headers[USER] = raw_user
    if envelope.user_id:
        headers[AUTHTYPE] = "app_user"
        headers[AUTHID] = envelope.user_id
    if identity:
        headers[IDENTITY] = identity
    return headers


def envelope_body(envelope: EventEnvelope) -> bytes:
    """The message body: the event data only (binary content mode)."""
    return to_json(envelope.payload)


def envelope_of(headers: Mapping[str, str] | None, data: bytes) -> EventEnvelope:
    """The envelope of a bus message: a CloudEvent in binary mode, or (messages stored before the
    CloudEvents wire form) a JSON envelope body. Raises ValidationFailed naming the bad field."""
    if not headers or SPECVERSION not in headers:
        return EventEnvelope.from_json(data)
    if headers[SPECVERSION] != CLOUDEVENTS_SPEC:
        raise ValidationFailed("Unsupported CloudEvents specversion", details=[
            {"field": SPECVERSION, "message": f"expected {CLOUDEVENTS_SPEC!r}"}])
    try:
        payload = from_json(data) if data else {}
    except ValueError as exc:
        raise ValidationFailed("Invalid event data", details=[{"field": "data", "message": str(exc)}]) from exc
    parsed = context.parse_traceparent(headers.get(TRACEPARENT))
    fields: dict[str, Any] = {
        "id": _read(headers, CE_ID), "topic": _read(headers, CE_TYPE), "source": _read(headers, SOURCE),
        "payload": payload, "user_id": _read(headers, AUTHID),
        "trace_id": parsed[0] if parsed else None, "span_id": parsed[1] if parsed else None,
    }
    if CE_TIME in headers:
        fields["timestamp"] = headers[CE_TIME]
    try:
        return EventEnvelope.model_validate(fields)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, message="Invalid CloudEvent") from exc


_UNSAFE = str.maketrans({"\r": " ", "\n": " "})


def _value(raw: str) -> bytes:
    """A header value as NATS wants it: one line, no edge spaces, and `%` percent-encoded as the
    CloudEvents bindings decode header values (`_read` undoes it)."""
    if "\r" in raw or "\n" in raw:
        raw = raw.translate(_UNSAFE)
    if "%" in raw:
        raw = raw.replace("%", "%25")
    return raw.strip().encode()


def _read(headers: Mapping[str, str], name: str) -> str | None:
    """A header value as written by `_value`."""
    raw = headers.get(name)
    return unquote(raw) if raw and "%" in raw else raw


def envelope_header_block(envelope: EventEnvelope, user: User | Mapping[str, Any] | None = None,
                          identity: str | None = None) -> bytes:
    """`header_block(envelope_headers(envelope, user, identity))`, written straight (every emit)."""
    out = bytearray(b"NATS/1.0\r\nNats-Msg-Id: ")
    event_id = _value(envelope.id)
    out += event_id
    out += b"\r\nce-specversion: 1.0\r\nce-id: "
    out += event_id
    out += b"\r\nce-type: "
    out += _value(envelope.topic)
    out += b"\r\nce-source: "
    out += _value(envelope.source)
    out += b"\r\nce-time: "
    out += _time(envelope).encode()
    out += b"\r\ncontent-type: application/json"
    if envelope.trace_id:
        out += b"\r\nce-traceparent: "
        out += _value(context.format_traceparent(envelope.trace_id, envelope.span_id or context.new_span_id()))
    request_id = context.request_id.get()
    if request_id:
        out += b"\r\nce-requestid: "
        out += _value(request_id)
    raw_user = user_json(user)
    if raw_user:
        out += b"\r\nce-webosuser: "
        out += _value(raw_user)
    if envelope.user_id:
        out += b"\r\nce-authtype: app_user\r\nce-authid: "
        out += _value(envelope.user_id)
    if identity:
        out += b"\r\nce-webosidentity: "
        out += _value(identity)
    out += b"\r\n\r\n"
    return bytes(out)


def header_block(headers: Mapping[str, str]) -> bytes:
    """The wire form of `headers` (`NATS/1.0` line, `key: value` lines, blank line);
    keys are the bus's own constants, values are made single-line."""
    lines = [b"NATS/1.0"]
    lines.extend(b"%b: %b" % (key.encode(), _value(value)) for key, value in headers.items())
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def current_user_snapshot() -> dict[str, Any] | None:
    user = context.current_user.get()
    return user.model_dump(mode="json") if user else None


@functools.lru_cache(maxsize=1024)
def _user_from_header(raw: str) -> User | None:
    try:
        return User.model_validate_json(raw)
    except ValueError:
        return None


def handler_user(envelope: EventEnvelope, headers: Mapping[str, str] | None) -> User | None:
    raw = _read(headers or {}, USER)
    user = _user_from_header(raw) if raw else None
    if envelope.user_id and (user is None or user.id != envelope.user_id):
        return User(id=envelope.user_id)  # the envelope is the truth about who emitted
    return user


class handler_scope:
    """Run a handler as the emitter: its user, its trace (a new span), its request id.
    A class, not a generator: it is entered once per delivered event."""

    __slots__ = ("envelope", "headers", "tokens", "trust_headers", "verified")

    def __init__(self, envelope: EventEnvelope, headers: Mapping[str, str] | None,
                 verified: User | None = None, *, trust_headers: bool = True) -> None:
        self.envelope = envelope
        self.headers = headers or {}
        self.verified = verified  # the person the identity token proved
        # without a proof, the headers' word is taken only where identity is not required (tests,
        # tools); elsewhere an unproven event runs as nobody, whatever its `ce-webosuser` header says
        self.trust_headers = trust_headers

    def __enter__(self) -> None:
        envelope, headers = self.envelope, self.headers
        trace = envelope.trace_id
        if trace is None:
            parsed = context.parse_traceparent(headers.get(TRACEPARENT))
            trace = parsed[0] if parsed else context.new_trace_id()
        verified = self.verified
        if verified is None and self.trust_headers:
            verified = handler_user(envelope, headers)
        self.tokens = (
            context.current_user.set(verified),
            context.credential.set(headers.get(IDENTITY) if self.verified is not None else None),
            context.trace_id.set(trace),
            context.span_id.set(context.new_span_id()),
            context.request_id.set(context.valid_request_id(_read(headers, REQUEST_ID))),
        )

    def __exit__(self, *exc: object) -> None:
        user, credential, trace, span, request = self.tokens
        context.request_id.reset(request)
        context.credential.reset(credential)
        context.span_id.reset(span)
        context.trace_id.reset(trace)
        context.current_user.reset(user)
