"""Request context that survives HTTP hops, events and background tasks.

Three context variables — the user, the trace (W3C trace and span ids) and
the request id — and the one codec that carries them (seed 002 §11):

* ids: `new_trace_id`/`new_span_id`/`new_request_id` (one generator), a
  request id from outside kept only when `valid_request_id` says so, a trace
  from outside only through `parse_traceparent`;
* HTTP, at the edge and in every service: `begin` decodes a request's
  `traceparent`/`x-request-id` and sets the variables; `outgoing` encodes
  them for the next hop. No identity travels in headers: each service verifies
  the caller's own credential;
* the bus (`bus/wire.py`) writes the same values as CloudEvents attributes
  and decodes them with the same functions; who an event acts for travels as
  a signed bus token (`bus/identity.py`), never as a claim;
* tasks: `capture` takes a JSON-able snapshot into a task's labels, `restore`
  (or `use`) sets it in the worker, decoding ids by the same rules; the
  worker believes the person only as the broker proved them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from random import getrandbits
from typing import Any

from webos_common.identity import User

current_user: ContextVar[User | None] = ContextVar("webos_current_user", default=None)
trace_id: ContextVar[str | None] = ContextVar("webos_trace_id", default=None)
span_id: ContextVar[str | None] = ContextVar("webos_span_id", default=None)
request_id: ContextVar[str | None] = ContextVar("webos_request_id", default=None)
# the person's own credential behind `current_user` (bearer token, API key, or the verified bus token of
# the event being handled): what the bus exchanges for an identity token; never sent anywhere itself
credential: ContextVar[str | None] = ContextVar("webos_credential", default=None)

TRACEPARENT = "traceparent"
REQUEST_ID = "x-request-id"
_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEX_RE = re.compile(r"^[0-9a-f]+$")


# ids name a request or a span, they guard nothing: the fast generator OpenTelemetry's own
# RandomIdGenerator uses (a zero id, invalid in W3C, has a chance of 2**-64 and is only a lost link)
def new_trace_id() -> str:
    return f"{getrandbits(128):032x}"


def new_span_id() -> str:
    return f"{getrandbits(64):016x}"


def new_request_id() -> str:
    return f"{getrandbits(64):016x}"


def valid_request_id(value: str | None) -> str | None:
    """A request id from outside, when it is one (it is logged, echoed and sent on): else None."""
    return value if value and _REQUEST_ID_RE.match(value) else None


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """Return (trace_id, parent_span_id) of a valid W3C traceparent, else None."""
    if not value:
        return None
    match = _TRACEPARENT_RE.match(value.strip().lower())
    if not match or match.group(1) == "ff":
        return None
    trace, span = match.group(2), match.group(3)
    if trace == "0" * 32 or span == "0" * 16:
        return None
    return trace, span


def format_traceparent(trace: str, span: str) -> str:
    return f"00-{trace}-{span}-01"


def current_traceparent() -> str | None:
    trace = trace_id.get()
    if trace is None:
        return None
    return format_traceparent(trace, span_id.get() or new_span_id())


def begin(traceparent: str | None, x_request_id: str | None,
          recorded: tuple[str, str] | None = None) -> tuple[str, str, str]:
    """Decode an HTTP request's context (at the edge and in every service) and set it, with
    no user yet: (trace id, span id, request id). `recorded` is the server span's (trace id,
    span id) when spans are exported (`tracing.recorded_span_ids`): the request's own span, so
    what it calls and emits hangs under a span that exists."""
    parsed = parse_traceparent(traceparent)
    trace = parsed[0] if parsed else recorded[0] if recorded else new_trace_id()
    span = recorded[1] if recorded and recorded[0] == trace else new_span_id()
    rid = valid_request_id(x_request_id) or new_request_id()
    trace_id.set(trace)
    span_id.set(span)
    request_id.set(rid)
    current_user.set(None)
    return trace, span, rid


def outgoing() -> dict[str, str]:
    """The current context as the headers of an HTTP call to another service."""
    headers: dict[str, str] = {}
    traceparent = current_traceparent()
    if traceparent:
        headers[TRACEPARENT] = traceparent
    rid = request_id.get()
    if rid:
        headers[REQUEST_ID] = rid
    return headers


def capture() -> dict[str, Any]:
    """Snapshot of the current context as a JSON-able dict (a task's labels, a saga's record)."""
    user = current_user.get()
    return {
        "user": user.model_dump(mode="json") if user else None,
        "trace_id": trace_id.get(),
        "span_id": span_id.get(),
        "request_id": request_id.get(),
    }


def _decoded(snapshot: Mapping[str, Any]) -> tuple[User | None, str | None, str | None, str | None]:
    """A snapshot's values by the codec's rules: a trace only when it is a valid W3C one."""
    user = snapshot.get("user")
    trace = _hex_id(snapshot.get("trace_id"), 32)
    span = _hex_id(snapshot.get("span_id"), 16) if trace else None
    return User.model_validate(user) if user else None, trace, span, valid_request_id(snapshot.get("request_id"))


def _hex_id(value: Any, length: int) -> str | None:
    """A W3C trace (32) or span (16) id: lower-case hex, not all zeros."""
    ok = isinstance(value, str) and len(value) == length and _HEX_RE.match(value) and value.strip("0")
    return value if ok else None


def restore(snapshot: Mapping[str, Any]) -> None:
    """Set the context variables from a `capture()` snapshot (in this task)."""
    user, trace, span, rid = _decoded(snapshot)
    current_user.set(user)
    trace_id.set(trace)
    span_id.set(span)
    request_id.set(rid)


@contextmanager
def use(snapshot: Mapping[str, Any]) -> Iterator[None]:
    """Run a block under a captured context, then put the previous one back."""
    user, trace, span, rid = _decoded(snapshot)
    tokens = (current_user.set(user), trace_id.set(trace), span_id.set(span), request_id.set(rid))
    try:
        yield
    finally:
        for var, token in zip((current_user, trace_id, span_id, request_id), tokens, strict=True):
            var.reset(token)  # type: ignore[attr-defined]


@contextmanager
def as_user(user: User | None) -> Iterator[None]:
    token = current_user.set(user)
    try:
        yield
    finally:
        current_user.reset(token)
