"""OpenTelemetry tracing for every WebOS process.

`setup_tracing(service)` installs an SDK `TracerProvider` once per process.
Spans are exported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (OTLP over
HTTP/protobuf, batched); otherwise they get real ids, so trace ids
propagate, but nothing leaves the process. `OTEL_SDK_DISABLED=true` turns
the SDK off entirely.

`instrument_app(app)` adds the FastAPI server spans, `instrument_httpx()`
the client spans (and `traceparent` on every outgoing httpx request), both
with the stable HTTP semantic conventions.

For the bus and the task queue, which have no instrumentation of their own:

* `start_span(name, kind=..., carrier=headers)` opens a span whose parent is
  the `traceparent` in `carrier` when there is one, else the current span,
  else the trace and span ids of `webos_common.context`; while it is open
  the context's trace/span ids are the span's, so logs, envelopes and
  outgoing headers carry it.
* `open_span(...)` is the same for a span begun in one hook and ended in
  another (`span.end()`), e.g. a task run between `pre_execute` and
  `post_execute`.
* `inject(headers)` writes the current `traceparent` into a carrier
  (message headers, task labels); `extract(headers)` reads one back as an
  OpenTelemetry context.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from webos_common import context

TRACER_NAME = "webos"
_propagator = TraceContextTextMapPropagator()
_state: dict[str, Any] = {"provider": None, "httpx": False}

__all__ = [
    "SpanKind", "extract", "get_tracer", "inject", "install", "instrument_app", "instrument_asgi",
    "instrument_httpx", "open_span", "setup_tracing", "start_span",
]


def _exporter_from_env(env: Mapping[str, str]) -> SpanExporter | None:
    if not (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # reads the OTEL_EXPORTER_OTLP_* variables itself


def setup_tracing(
    service: str,
    *,
    exporter: SpanExporter | None = None,
    env: Mapping[str, str] | None = None,
) -> TracerProvider | None:
    """Build this process's tracer provider (again: replaces the one of this module).

    `exporter` (tests pass an in-memory one) is attached with a synchronous
    processor; without it the OTLP exporter is used if the environment names
    an endpoint. Returns None when `OTEL_SDK_DISABLED` is true.
    """
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    resource = Resource.create({
        "service.name": env.get("OTEL_SERVICE_NAME") or service,
        "service.namespace": "webos",
        "deployment.environment": env.get("WEBOS_ENV", "development"),
    })
    provider = TracerProvider(resource=resource)
    processor: SpanProcessor | None = None
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    elif (otlp := _exporter_from_env(env)) is not None:
        processor = KeepSome(BatchSpanProcessor(otlp), **_keep_options(env))
    if processor is not None:
        provider.add_span_processor(processor)
    previous: TracerProvider | None = _state["provider"]
    _state["provider"] = provider
    if previous is None and not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    return provider


def _keep_options(env: Mapping[str, str]) -> dict[str, float]:
    production = env.get("WEBOS_ENV", "development") == "production"
    return {"ratio": float(env.get("WEBOS_TRACE_SAMPLE", "0.05" if production else "1")),
            "slow_ms": float(env.get("WEBOS_TRACE_SLOW_MS", "500"))}


class KeepSome(SpanProcessor):
    """Exports a share of the spans (`WEBOS_TRACE_SAMPLE`, by trace id, so a kept trace keeps all of its
    spans of this process), and always those that failed or took at least `WEBOS_TRACE_SLOW_MS`.
    Production default: 5 %; development: everything."""

    def __init__(self, inner: SpanProcessor, *, ratio: float = 1.0, slow_ms: float = 500.0) -> None:
        self.inner = inner
        self.bound = int(max(0.0, min(1.0, ratio)) * (1 << 64))
        self.slow_ns = int(slow_ms * 1_000_000)

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: Any) -> None:
        if self.keeps(span):
            self.inner.on_end(span)

    def keeps(self, span: Any) -> bool:
        if (span.context.trace_id & 0xFFFFFFFFFFFFFFFF) < self.bound:
            return True
        if span.status.status_code is trace.StatusCode.ERROR:
            return True
        return bool(span.end_time and span.start_time and span.end_time - span.start_time >= self.slow_ns)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


def active() -> bool:
    """True when this process records spans (an exporter is attached). The bus and
    the task queue skip span work entirely otherwise: the webos context alone
    already carries the trace id across hops."""
    own: TracerProvider | None = _state["provider"]
    return own is not None and bool(own._active_span_processor._span_processors)


def recorded_span_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current recorded span, when tracing is active:
    what a hand-written proxy forwards so its upstream continues that span."""
    if not active():
        return None
    ids = trace.get_current_span().get_span_context()
    return (format(ids.trace_id, "032x"), format(ids.span_id, "016x")) if ids.is_valid else None


_NO_SPAN: AbstractContextManager[None] = nullcontext()


def maybe_span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    carrier: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> AbstractContextManager[Span | None]:
    """`start_span` when tracing is active, else one shared do-nothing context (hot paths)."""
    if not active():
        return _NO_SPAN
    return start_span(name, kind=kind, carrier=carrier, attributes=attributes)


def provider() -> trace.TracerProvider:
    """This module's provider if `setup_tracing` ran, else the global one (a no-op by default)."""
    own: TracerProvider | None = _state["provider"]
    return own if own is not None else trace.get_tracer_provider()


def get_tracer(name: str = TRACER_NAME) -> trace.Tracer:
    return provider().get_tracer(name)


class _SpanTraceparent:
    """Inside the OpenTelemetry server middleware, before `RequestContextMiddleware`:
    hand the server span on as the request's `traceparent`, so the webos context
    takes the span's trace id (also when the client sent none) and new spans
    opened in the handler are its children."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        ids = trace.get_current_span().get_span_context()
        if scope["type"] in ("http", "websocket") and ids.is_valid:
            value = context.format_traceparent(format(ids.trace_id, "032x"), format(ids.span_id, "016x"))
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"traceparent"]
            scope = {**scope, "headers": [*headers, (b"traceparent", value.encode())]}
        await self.app(scope, receive, send)


def stable_http_conventions() -> None:
    """Make the HTTP instrumentations write the stable semantic conventions (`http.request.method`,
    `url.path`, `http.response.status_code`, …) rather than the legacy ones (`http.method`, …).
    They read `OTEL_SEMCONV_STABILITY_OPT_IN` once per process, when the first of them is built, so
    every `instrument_*` here sets it first; a value the operator set is kept."""
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")


def instrument_app(app: Any, *, excluded_urls: str = "/healthz,/readyz,/metrics") -> None:
    """Server spans for every request of a FastAPI app (probes and scrapes excluded).

    Idempotent: `create_service_app` already calls it for every service."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if getattr(app.state, "webos_traced", False):
        return
    stable_http_conventions()
    app.state.webos_traced = True
    app.add_middleware(_SpanTraceparent)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider(), excluded_urls=excluded_urls)


SpanDetails = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


def instrument_asgi(app: Any, *, excluded_urls: str = "/healthz,/readyz,/metrics",
                    span_details: SpanDetails | None = None) -> Any:
    """Server spans around a plain ASGI app (e.g. the gateway's edge, which is not a
    FastAPI app): returns the wrapped app, with the same span → traceparent bridge.
    `span_details(scope)` gives the span's name and extra attributes (the default names
    it by the raw path: pass one that names it by route template)."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    stable_http_conventions()
    return OpenTelemetryMiddleware(_SpanTraceparent(app), tracer_provider=provider(), excluded_urls=excluded_urls,
                                   default_span_details=span_details)


class _ContextTracer(trace.Tracer):
    """A tracer whose spans without an explicit parent join the webos context's trace
    (for instrumentations, such as httpx, that only look at the current span)."""

    def __init__(self, inner: trace.Tracer) -> None:
        self._inner = inner

    def start_span(self, name: str, context: Context | None = None, *args: Any, **kwargs: Any) -> Span:
        return self._inner.start_span(name, context if context is not None else _context_parent(), *args, **kwargs)

    @contextmanager  # the API's own decorator is private; a plain context manager does the same
    def start_as_current_span(  # type: ignore[override]
        self, name: str, context: Context | None = None, *args: Any, **kwargs: Any,
    ) -> Iterator[Span]:
        parent = context if context is not None else _context_parent()
        with self._inner.start_as_current_span(name, parent, *args, **kwargs) as span:
            yield span


class _ContextTracerProvider(trace.TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _ContextTracer(provider().get_tracer(*args, **kwargs))


def instrument_httpx(client: Any = None) -> None:
    """Client spans for one httpx client, or (no argument) for every httpx client of the process.

    Outside any span, a client span's parent is the webos context's trace, so a
    call made from a bus handler or a task stays in the caller's trace."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    stable_http_conventions()
    if client is not None:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_ContextTracerProvider())
    elif not _state["httpx"]:
        HTTPXClientInstrumentor().instrument(tracer_provider=_ContextTracerProvider())
        _state["httpx"] = True


def uninstrument_httpx() -> None:
    """Undo `instrument_httpx()` for the whole process (tests)."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    if _state["httpx"]:
        HTTPXClientInstrumentor().uninstrument()
        _state["httpx"] = False


def install(app: Any, service: str) -> None:
    """Everything a service needs, in one call when its app is built: the
    provider (first call in the process), server spans, httpx client spans."""
    if _state["provider"] is None:
        setup_tracing(service)
    instrument_app(app)
    instrument_httpx()


def extract(carrier: Mapping[str, str]) -> Context | None:
    """The OpenTelemetry context of a carrier's valid `traceparent`, else None."""
    if context.parse_traceparent(carrier.get(context.TRACEPARENT)) is None:
        return None
    return _propagator.extract(dict(carrier))


def _context_parent() -> Context | None:
    """Parent for a new span: the current span if it belongs to the webos trace, else the webos ids."""
    current = trace.get_current_span().get_span_context()
    webos_trace = context.trace_id.get()
    if current.is_valid and (webos_trace is None or format(current.trace_id, "032x") == webos_trace):
        return None  # the current span is the parent
    if webos_trace is None:
        return None  # a new root
    parent = SpanContext(
        trace_id=int(webos_trace, 16),
        span_id=int(context.span_id.get() or context.new_span_id(), 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


@contextmanager
def start_span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    carrier: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """Open a span in the WebOS trace (see the module doc); the context ids follow it."""
    parent = extract(carrier) if carrier is not None else None
    if parent is None:
        parent = _context_parent()
    with get_tracer().start_as_current_span(name, context=parent, kind=kind, attributes=attributes) as span:
        ids = span.get_span_context()
        if not ids.is_valid:  # tracing disabled: the webos context stays as it is
            yield span
            return
        tokens = (
            context.trace_id.set(format(ids.trace_id, "032x")),
            context.span_id.set(format(ids.span_id, "016x")),
        )
        try:
            yield span
        finally:
            context.span_id.reset(tokens[1])
            context.trace_id.reset(tokens[0])


def open_span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    carrier: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Span:
    """Start a span the caller ends with `span.end()`, for hook pairs such as TaskIQ's
    `pre_execute`/`post_execute`; parented like `start_span`. The context's trace/span
    ids become the span's in the current task (not reset: the caller's context ends with it)."""
    parent = extract(carrier) if carrier is not None else None
    if parent is None:
        parent = _context_parent()
    span = get_tracer().start_span(name, context=parent, kind=kind, attributes=attributes)
    ids = span.get_span_context()
    if ids.is_valid:
        context.trace_id.set(format(ids.trace_id, "032x"))
        context.span_id.set(format(ids.span_id, "016x"))
    return span


def inject(carrier: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Write the current `traceparent` (span, else webos context) into `carrier` and return it."""
    carrier = {} if carrier is None else carrier
    if trace.get_current_span().get_span_context().is_valid:
        _propagator.inject(carrier)
    else:
        traceparent = context.current_traceparent()
        if traceparent:
            carrier[context.TRACEPARENT] = traceparent
    return carrier
