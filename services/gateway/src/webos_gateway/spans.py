"""The gateway's spans, when spans are exported (`tracing.active()`; nothing here runs otherwise).

* the edge's SERVER span is named by route template (`GET /api/tasks/{path}`), never by the raw
  path: a span name per file id or task id would be unbounded;
* each upstream call is a CLIENT span, child of the server span, and the upstream receives the
  client span in `traceparent`, so its own server span hangs under it (OpenTelemetry HTTP
  semantic conventions, stable attributes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.trace import Span, SpanKind, StatusCode

from webos_common import context
from webos_common.observability import tracing
from webos_gateway.routing import DOCS_ASSETS, Route, classify

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


def route_template(path: str, live: Any = ()) -> str:
    """The path's template: the gateway's own paths as they are, `{path}` for what the upstream
    resolves, `{module}` for a module name the registry does not know (`live`: the known ones)."""
    route = classify(path)
    if route.kind == "own":
        return f"{DOCS_ASSETS}{{name}}" if path.startswith(DOCS_ASSETS) else path
    if route.kind == "shell":
        return "/{path}"
    if route.kind == "core" or route.name in live:
        return f"/api/{route.name}/{{path}}"
    return "/api/{module}/{path}"


def method_of(scope: dict[str, Any]) -> str:
    method = str(scope.get("method") or "GET")
    return method if method in METHODS else "_OTHER"


def server_span_details(live: Any) -> tracing.SpanDetails:
    """`instrument_asgi`'s span namer for the edge (`live()`: the module names the registry knows)."""
    def details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        template = route_template(str(scope.get("path", "")), live())
        method = method_of(scope)
        return f"{'HTTP' if method == '_OTHER' else method} {template}", {"http.route": template}
    return details


def _upstream_template(route: Route) -> str:
    return "/{path}" if route.kind != "module" else f"/api/{route.name}/{{path}}"


Headers = list[tuple[bytes, bytes]]


class _Untraced:
    """What `upstream_call` is without exported spans: no span, the headers as they are (a plain
    object rather than a generator: it is on every proxied request)."""

    __slots__ = ("value",)

    def __init__(self, headers: Headers) -> None:
        self.value: tuple[Span | None, Headers] = (None, headers)

    def __enter__(self) -> tuple[Span | None, Headers]:
        return self.value

    def __exit__(self, *exc: object) -> None:
        return None


def upstream_call(method: str, base: str, target: str, route: Route,
                  headers: Headers) -> AbstractContextManager[tuple[Span | None, Headers]]:
    """A CLIENT span around one upstream call and the headers to send with it (their `traceparent`
    names the span)."""
    if not tracing.active():
        return _Untraced(headers)
    return _traced_call(method, base, target, route, headers)


@contextmanager
def _traced_call(method: str, base: str, target: str, route: Route,
                 headers: Headers) -> Iterator[tuple[Span | None, Headers]]:
    url = urlsplit(base)
    template = _upstream_template(route)
    method = method if method in METHODS else "_OTHER"
    attributes = {"http.request.method": method, "server.address": url.hostname or "", "url.template": template,
                  "server.port": url.port or (443 if url.scheme == "https" else 80), "url.full": base + target,
                  "webos.upstream": route.label}
    with tracing.start_span(f"{'HTTP' if method == '_OTHER' else method} {template}", kind=SpanKind.CLIENT,
                            attributes=attributes) as span:
        traceparent = context.current_traceparent() or ""
        yield span, [(k, v) for k, v in headers if k != b"traceparent"] + [(b"traceparent", traceparent.encode())]


def answered(span: Span | None, status: int) -> None:
    if span is None:
        return
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(StatusCode.ERROR)
        span.set_attribute("error.type", str(status))


def failed(span: Span | None, kind: str) -> None:
    if span is not None:
        span.set_status(StatusCode.ERROR)
        span.set_attribute("error.type", kind)
