"""Tracing: server spans follow the client's traceparent, spans opened from the
webos context or from message headers stay in the same trace, nothing is
exported unless an OTLP endpoint is configured."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import APIRouter
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from webos_common import context
from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.observability import tracing
from webos_common.testing import lifespan_client, serve_app

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    tracing.setup_tracing("tracing-test", exporter=exporter, env={})
    return exporter


def _hex_trace(span) -> str:
    return format(span.context.trace_id, "032x")


def _probe_app(name: str = "probe"):
    router = APIRouter()

    @router.get("/work")
    async def work() -> dict[str, str | None]:
        with tracing.start_span("work") as span:
            inner = format(span.get_span_context().span_id, "016x")
            return {"trace_id": context.trace_id.get(), "span_id": context.span_id.get(), "inner": inner}

    app = create_service_app(name, settings=WebOSSettings(env="test"), use_mongo=False, use_nats=False,
                             routers=[router])
    tracing.instrument_app(app)
    return app


async def test_server_span_carries_the_clients_trace_id(spans) -> None:
    async with lifespan_client(_probe_app()) as client:
        resp = await client.get("/work", headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["trace_id"] == CLIENT_TRACE
    assert resp.headers["traceparent"].split("-")[1] == CLIENT_TRACE

    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind == SpanKind.SERVER]
    assert len(server) == 1
    assert _hex_trace(server[0]) == CLIENT_TRACE
    assert format(server[0].parent.span_id, "016x") == CLIENT_SPAN
    work = next(s for s in finished if s.name == "work")
    assert _hex_trace(work) == CLIENT_TRACE
    assert work.parent.span_id == server[0].context.span_id  # a real child, not a sibling
    # the stable HTTP semantic conventions, not the legacy attributes
    attributes = server[0].attributes or {}
    assert (server[0].name, attributes["http.route"]) == ("GET /work", "/work")
    assert (attributes["http.request.method"], attributes["url.path"], attributes["http.response.status_code"]) == (
        "GET", "/work", 200)
    assert "http.method" not in attributes and "http.status_code" not in attributes


async def test_request_without_traceparent_uses_one_trace_for_spans_and_context(spans) -> None:
    async with lifespan_client(_probe_app()) as client:
        resp = await client.get("/work")
    server = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER)
    assert resp.json()["trace_id"] == _hex_trace(server)
    assert resp.headers["traceparent"].split("-")[1] == _hex_trace(server)


async def test_probes_make_no_spans(spans) -> None:
    async with lifespan_client(_probe_app()) as client:
        assert (await client.get("/healthz")).status_code == 200
    assert spans.get_finished_spans() == ()


def test_start_span_keeps_the_trace_id_of_the_context(spans) -> None:
    snapshot = {"trace_id": CLIENT_TRACE, "span_id": CLIENT_SPAN}
    with context.use(snapshot):
        with tracing.start_span("bus consume", kind=SpanKind.CONSUMER) as span:
            ids = span.get_span_context()
            assert context.trace_id.get() == CLIENT_TRACE
            assert context.span_id.get() == format(ids.span_id, "016x")
        assert context.span_id.get() == CLIENT_SPAN  # restored on exit
    (finished,) = spans.get_finished_spans()
    assert _hex_trace(finished) == CLIENT_TRACE
    assert format(finished.parent.span_id, "016x") == CLIENT_SPAN
    assert finished.kind == SpanKind.CONSUMER


def test_inject_then_extract_links_producer_and_consumer(spans) -> None:
    with context.use({"trace_id": CLIENT_TRACE, "span_id": CLIENT_SPAN}):
        with tracing.start_span("publish", kind=SpanKind.PRODUCER) as producer:
            headers = tracing.inject({"other": "kept"})
    assert headers["other"] == "kept"
    assert headers["traceparent"].split("-")[1] == CLIENT_TRACE

    with context.use({}):  # a worker elsewhere, with an unrelated context
        with tracing.start_span("consume", kind=SpanKind.CONSUMER, carrier=headers):
            assert context.trace_id.get() == CLIENT_TRACE
    consumer = next(s for s in spans.get_finished_spans() if s.name == "consume")
    assert consumer.parent.span_id == producer.get_span_context().span_id


def test_inject_without_a_span_uses_the_webos_context() -> None:
    with context.use({"trace_id": CLIENT_TRACE, "span_id": CLIENT_SPAN}):
        assert tracing.inject()["traceparent"] == f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
    with context.use({}):
        assert "traceparent" not in tracing.inject()


def test_a_bad_carrier_traceparent_falls_back_to_the_context(spans) -> None:
    with context.use({"trace_id": CLIENT_TRACE, "span_id": CLIENT_SPAN}):
        with tracing.start_span("consume", carrier={"traceparent": "garbage"}):
            pass
    (finished,) = spans.get_finished_spans()
    assert _hex_trace(finished) == CLIENT_TRACE


async def test_httpx_client_span_is_the_parent_of_the_server_span(spans) -> None:
    async with serve_app(_probe_app("callee")) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        tracing.instrument_httpx(client)
        with context.use({"trace_id": CLIENT_TRACE, "span_id": CLIENT_SPAN}), tracing.start_span("caller"):
            resp = await client.get("/work")
    assert resp.json()["trace_id"] == CLIENT_TRACE
    finished = spans.get_finished_spans()
    client_span = next(s for s in finished if s.kind == SpanKind.CLIENT)
    server_span = next(s for s in finished if s.kind == SpanKind.SERVER)
    assert {_hex_trace(client_span), _hex_trace(server_span)} == {CLIENT_TRACE}
    assert server_span.parent.span_id == client_span.context.span_id
    attributes = client_span.attributes or {}
    assert (attributes["http.request.method"], attributes["http.response.status_code"]) == ("GET", 200)
    assert attributes["url.full"] == f"{base_url}/work" and "http.url" not in attributes


def test_nothing_is_exported_without_an_endpoint() -> None:
    provider = tracing.setup_tracing("quiet", env={})
    assert provider is not None
    assert provider._active_span_processor._span_processors == ()
    assert provider.resource.attributes["service.name"] == "quiet"


def test_otlp_exporter_when_the_endpoint_is_set() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SERVICE_NAME": "renamed"}
    provider = tracing.setup_tracing("svc", env=env)
    try:
        (processor,) = provider._active_span_processor._span_processors
        assert isinstance(processor, tracing.KeepSome) and isinstance(processor.inner, BatchSpanProcessor)
        assert provider.resource.attributes["service.name"] == "renamed"
    finally:
        provider.shutdown()


def test_sdk_disabled_builds_nothing() -> None:
    assert tracing.setup_tracing("svc", env={"OTEL_SDK_DISABLED": "true"}) is None


@pytest.fixture
def undo_httpx():
    yield
    tracing.uninstrument_httpx()  # the rest of the session keeps plain httpx


async def test_install_gives_a_service_server_and_client_spans(spans, undo_httpx) -> None:
    app = create_service_app("installed", settings=WebOSSettings(env="test"), use_mongo=False, use_nats=False)
    tracing.install(app, "installed")
    async with serve_app(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        with context.use({"trace_id": CLIENT_TRACE, "span_id": CLIENT_SPAN}):  # a handler, no span open
            assert (await client.get("/nowhere")).status_code == 404
    finished = spans.get_finished_spans()
    client_span = next(s for s in finished if s.kind == SpanKind.CLIENT)
    assert _hex_trace(client_span) == CLIENT_TRACE
    assert format(client_span.parent.span_id, "016x") == CLIENT_SPAN
    (server,) = [s for s in finished if s.kind == SpanKind.SERVER]
    assert _hex_trace(server) == CLIENT_TRACE
    assert 404 in (server.attributes.get("http.response.status_code"), server.attributes.get("http.status_code"))


async def test_open_span_spans_two_hooks_of_a_task_run(spans) -> None:
    async def run_task(snapshot: dict) -> tuple[str | None, int]:
        context.restore(snapshot)  # what the task middleware's pre_execute does
        span = tracing.open_span("task run", kind=SpanKind.CONSUMER)  # ... then pre_execute opens the span
        seen = context.trace_id.get(), span.get_span_context().span_id
        span.end()  # post_execute
        return seen

    seen_trace, span_id = await asyncio.create_task(run_task({"trace_id": CLIENT_TRACE, "span_id": CLIENT_SPAN}))
    assert seen_trace == CLIENT_TRACE
    (finished,) = spans.get_finished_spans()
    assert finished.context.span_id == span_id and _hex_trace(finished) == CLIENT_TRACE
    assert format(finished.parent.span_id, "016x") == CLIENT_SPAN


async def test_instrument_asgi_wraps_a_plain_asgi_app(spans) -> None:
    seen: dict[str, str] = {}

    async def edge(scope, receive, send) -> None:  # a raw ASGI app, like the gateway's edge
        headers = dict(scope["headers"])
        seen["traceparent"] = headers[b"traceparent"].decode()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=tracing.instrument_asgi(edge))
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        resp = await client.get("/api/x", headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
    assert resp.status_code == 204
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert _hex_trace(server) == CLIENT_TRACE
    # the app sees the server span as its parent: what it forwards continues the trace
    assert seen["traceparent"] == f"00-{CLIENT_TRACE}-{format(server.context.span_id, '016x')}-01"


def test_sampling_keeps_a_share_and_every_failed_or_slow_span() -> None:
    import time as _time

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Status, StatusCode

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(tracing.KeepSome(SimpleSpanProcessor(exported), ratio=0.0, slow_ms=20))
    tracer = provider.get_tracer("t")
    for _ in range(20):
        with tracer.start_as_current_span("quick"):
            pass
    with tracer.start_as_current_span("failed") as span:
        span.set_status(Status(StatusCode.ERROR))
    with tracer.start_as_current_span("slow"):
        _time.sleep(0.03)
    assert sorted(s.name for s in exported.get_finished_spans()) == ["failed", "slow"]
    everything = InMemorySpanExporter()
    all_provider = TracerProvider()
    all_provider.add_span_processor(tracing.KeepSome(SimpleSpanProcessor(everything), ratio=1.0))
    with all_provider.get_tracer("t").start_as_current_span("quick"):
        pass
    assert [s.name for s in everything.get_finished_spans()] == ["quick"]


async def test_a_relayed_event_makes_a_producer_span_the_consumer_span_hangs_under(spans, nc) -> None:
    """The outbox relay's `publish` of a stored envelope: PRODUCER child of the span that wrote the
    event, CONSUMER child of the PRODUCER, both with the messaging semantic-convention attributes."""
    import uuid

    from webos_common.bus import BusSettings, EventBus
    from webos_common.bus.envelope import EventEnvelope

    entity = f"tr{uuid.uuid4().hex[:10]}"
    bus = EventBus(nc, service=f"svc{uuid.uuid4().hex[:6]}", settings=BusSettings(backoff=[0.05], max_deliver=2))
    done = asyncio.Event()

    async def handle(event: EventEnvelope) -> None:
        done.set()

    bus.subscribe(f"{entity}:written", handle, name="handle")
    await bus.start()
    try:
        stored = EventEnvelope(topic=f"{entity}:written", source=bus.service, trace_id=CLIENT_TRACE,
                               span_id=CLIENT_SPAN)
        assert await bus.publish(stored)
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await bus.close()
    tracing.provider().force_flush()
    finished = spans.get_finished_spans()
    producer = next(s for s in finished if s.name == f"{entity}:written publish")
    consumer = next(s for s in finished if s.name == f"{entity}:written process")
    assert producer.kind is SpanKind.PRODUCER and consumer.kind is SpanKind.CONSUMER
    assert _hex_trace(producer) == _hex_trace(consumer) == CLIENT_TRACE
    assert format(producer.parent.span_id, "016x") == CLIENT_SPAN
    assert consumer.parent.span_id == producer.context.span_id
    for span, operation in ((producer, "send"), (consumer, "process")):
        assert span.attributes["messaging.system"] == "nats"
        assert span.attributes["messaging.operation.type"] == operation
        assert span.attributes["messaging.destination.name"].startswith("webos.events.")
