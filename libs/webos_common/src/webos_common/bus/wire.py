"""Envelope ↔ NATS message headers, and the context a handler runs under.

Hot path of every event: users are serialised once per `User` object on the
way out and parsed once per distinct header on the way in.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from webos_common import context
from webos_common.envelope import EventEnvelope
from webos_common.identity import User

MSG_ID = "Nats-Msg-Id"
SOURCE = "webos-source"

_USER_JSON: dict[int, tuple[User, str]] = {}


def user_json(user: User | Mapping[str, Any] | None) -> str | None:
    """The `webos-user` header value for a user (cached per User object)."""
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


def envelope_headers(envelope: EventEnvelope, user: User | Mapping[str, Any] | None = None) -> dict[str, str]:
    """Headers for an envelope: msg id (de-dup), traceparent, request id, user and source."""
    headers: dict[str, str] = {MSG_ID: envelope.id, SOURCE: envelope.source}
    if envelope.trace_id:
        headers[context.TRACEPARENT] = context.format_traceparent(
            envelope.trace_id, envelope.span_id or context.new_span_id())
    request_id = context.request_id.get()
    if request_id:
        headers[context.REQUEST_ID] = request_id
    raw_user = user_json(user)
    if raw_user:
        headers[context.USER] = raw_user
    if envelope.user_id:
        headers[context.USER_ID] = envelope.user_id
    return headers


_UNSAFE = str.maketrans({"\r": " ", "\n": " "})


def _value(raw: str) -> bytes:
    """A header value as NATS wants it: one line, no edge spaces."""
    if "\r" in raw or "\n" in raw:
        raw = raw.translate(_UNSAFE)
    return raw.strip().encode()


def envelope_header_block(envelope: EventEnvelope, user: User | Mapping[str, Any] | None = None,
                          identity: str | None = None) -> bytes:
    """`header_block(envelope_headers(envelope, user))` plus the identity token, written straight (every emit)."""
    out = bytearray(b"NATS/1.0\r\nNats-Msg-Id: ")
    out += _value(envelope.id)
    out += b"\r\nwebos-source: "
    out += _value(envelope.source)
    if envelope.trace_id:
        out += b"\r\ntraceparent: "
        out += _value(context.format_traceparent(envelope.trace_id, envelope.span_id or context.new_span_id()))
    request_id = context.request_id.get()
    if request_id:
        out += b"\r\nx-request-id: "
        out += _value(request_id)
    raw_user = user_json(user)
    if raw_user:
        out += b"\r\nwebos-user: "
        out += _value(raw_user)
    if envelope.user_id:
        out += b"\r\nwebos-user-id: "
        out += _value(envelope.user_id)
    if identity:
        out += b"\r\nwebos-identity: "
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
    raw = (headers or {}).get(context.USER)
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
        # tools); elsewhere an unproven event runs as nobody, whatever its `webos-user` header says
        self.trust_headers = trust_headers

    def __enter__(self) -> None:
        envelope, headers = self.envelope, self.headers
        trace = envelope.trace_id
        if trace is None:
            parsed = context.parse_traceparent(headers.get(context.TRACEPARENT))
            trace = parsed[0] if parsed else context.new_trace_id()
        verified = self.verified
        if verified is None and self.trust_headers:
            verified = handler_user(envelope, headers)
        self.tokens = (
            context.current_user.set(verified),
            context.credential.set(headers.get("webos-identity") if self.verified is not None else None),
            context.trace_id.set(trace),
            context.span_id.set(context.new_span_id()),
            context.request_id.set(headers.get(context.REQUEST_ID)),
        )

    def __exit__(self, *exc: object) -> None:
        user, credential, trace, span, request = self.tokens
        context.request_id.reset(request)
        context.credential.reset(credential)
        context.span_id.reset(span)
        context.trace_id.reset(trace)
        context.current_user.reset(user)
