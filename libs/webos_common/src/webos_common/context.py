"""Request context that survives HTTP hops, events and background tasks.

Three context variables — the user, the trace (W3C trace and span ids) and
the request id — plus helpers to capture them into a plain dict (or wire
headers) and restore them somewhere else: another asyncio task, a bus
handler, a task worker in another process (seed 002 §11).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
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
USER_ID = "webos-user-id"
USER = "webos-user"

_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def new_request_id() -> str:
    return secrets.token_hex(8)


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


def capture() -> dict[str, Any]:
    """Snapshot of the current context as a JSON-able dict."""
    user = current_user.get()
    return {
        "user": user.model_dump(mode="json") if user else None,
        "trace_id": trace_id.get(),
        "span_id": span_id.get(),
        "request_id": request_id.get(),
    }


def restore(snapshot: Mapping[str, Any]) -> None:
    """Set the context variables from a `capture()` snapshot (in this task)."""
    user = snapshot.get("user")
    current_user.set(User.model_validate(user) if user else None)
    trace_id.set(snapshot.get("trace_id"))
    span_id.set(snapshot.get("span_id"))
    request_id.set(snapshot.get("request_id"))


@contextmanager
def use(snapshot: Mapping[str, Any]) -> Iterator[None]:
    """Run a block under a captured context, then put the previous one back."""
    tokens = (
        current_user.set(User.model_validate(snapshot["user"]) if snapshot.get("user") else None),
        trace_id.set(snapshot.get("trace_id")),
        span_id.set(snapshot.get("span_id")),
        request_id.set(snapshot.get("request_id")),
    )
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


def to_headers(snapshot: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Wire headers for a snapshot (default: the current context)."""
    snap = capture() if snapshot is None else snapshot
    headers: dict[str, str] = {}
    if snap.get("trace_id"):
        headers[TRACEPARENT] = format_traceparent(snap["trace_id"], snap.get("span_id") or new_span_id())
    if snap.get("request_id"):
        headers[REQUEST_ID] = snap["request_id"]
    if snap.get("user"):
        headers[USER_ID] = snap["user"]["id"]
        headers[USER] = json.dumps(snap["user"], separators=(",", ":"))
    return headers


def from_headers(headers: Mapping[str, str]) -> dict[str, Any]:
    """Snapshot from wire headers; a missing or bad traceparent starts a new trace."""
    parsed = parse_traceparent(headers.get(TRACEPARENT))
    trace, span = parsed if parsed else (new_trace_id(), new_span_id())
    user: Any = None
    raw_user = headers.get(USER)
    if raw_user:
        try:
            user = User.model_validate_json(raw_user).model_dump(mode="json")
        except ValueError:
            user = None
    return {"user": user, "trace_id": trace, "span_id": span, "request_id": headers.get(REQUEST_ID)}
