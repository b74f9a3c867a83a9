"""The request-context middleware every service runs (pure ASGI, cheap).

Reads (or creates) `x-request-id` and the W3C `traceparent` through the
one context codec (`context.begin`), sets the context variables for the
request, answers with both headers, records metrics per route template and
logs one line per request.

A NUL character in the path or a query parameter is refused up front (422
naming the parameter): no store or regular expression downstream takes it.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, unquote

from loguru import logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webos_common import context
from webos_common.observability import tracing
from webos_common.observability.metrics import HttpMetrics

_QUIET = {"/healthz", "/readyz", "/metrics"}
_access = logger.bind(access=True)  # stderr keeps these lines; the bus log sink leaves them out


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        # the server span, when spans are exported: what the request's events (the outbox stores the
        # ids) name as their parent, so their PRODUCER span hangs under a span that exists
        trace, span, rid = context.begin(headers.get(context.TRACEPARENT), headers.get(context.REQUEST_ID),
                                         tracing.recorded_span_ids())
        extra = [
            (b"x-request-id", rid.encode("latin-1")),
            (b"traceparent", context.format_traceparent(trace, span).encode()),
        ]
        status = {"code": 500}
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            bad = _nul_field(scope)
            if bad is not None and scope["type"] == "http":
                await _refuse_nul(send_with_headers, *bad)
                return
            await self.app(scope, receive, send_with_headers)
        finally:
            if scope["type"] == "http":
                self._record(scope, status["code"], time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        path: str = scope["path"]
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or ("unmatched" if status == 404 else path)
        self.metrics.observe(scope["method"], template, status, seconds)
        if path in _QUIET:
            return
        user = context.current_user.get()
        _access.info(
            "{} {} -> {} in {:.1f} ms user={}", scope["method"], path, status, seconds * 1000,
            user.id if user else "-",
        )


def _nul_field(scope: Scope) -> tuple[str, str] | None:
    """(location, name) of a path or query parameter holding a NUL character."""
    if "\x00" in scope["path"]:
        return "path", "path"
    query: bytes = scope.get("query_string") or b""
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return "query", unquote(name).replace("\x00", "")[:100] or "query"
    return None


async def _refuse_nul(send: Send, location: str, name: str) -> None:
    body = json.dumps({"error": {"code": "validation_failed", "message": f"Invalid input: {name}", "details": [
        {"field": name, "location": location, "message": "must not contain NUL characters",
         "type": "string_nul"}]}}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
