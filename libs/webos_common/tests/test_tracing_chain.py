"""One trace id from the edge to a task, over real HTTP and a real NATS:

client → edge app (server span) → httpx (client span) → service app (server
span) → bus emit (producer span) → bus handler (consumer span) → task labels
over NATS (the TaskIQ middleware's `context.capture()` label) → task run.

The bus and task spans are opened here with `tracing.start_span` exactly as
the bus and the task middleware are meant to (see the tracing module doc);
the trace id must survive each hop on its own.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import nats
from fastapi import APIRouter, Request
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from webos_common import context, tracing
from webos_common.bus import BusSettings, EventBus
from webos_common.config import WebOSSettings
from webos_common.envelope import EventEnvelope
from webos_common.service import create_service_app
from webos_common.testing import lifespan_client, serve_app

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"


def _app(name: str, router: APIRouter):
    app = create_service_app(name, settings=WebOSSettings(env="test"), use_mongo=False, use_nats=False,
                             routers=[router])
    tracing.instrument_app(app)
    return app


async def test_one_trace_id_from_the_edge_to_a_task(nats_url) -> None:
    exporter = InMemorySpanExporter()
    tracing.setup_tracing("chain", exporter=exporter, env={})
    entity = f"t{uuid.uuid4().hex[:10]}"
    task_subject = f"test.tasks.{entity}"
    nc = await nats.connect(nats_url)
    bus = EventBus(nc, service=f"svc{entity}", settings=BusSettings(backoff=[0.05], max_deliver=2))
    task_ran: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @bus.on(f"{entity}:created")
    async def on_created(event: EventEnvelope) -> None:
        with tracing.start_span(f"{event.topic} process", kind=SpanKind.CONSUMER):
            labels = {"webos_context": json.dumps(context.capture())}  # what ContextMiddleware.pre_send does
            await nc.publish(task_subject, json.dumps(labels).encode())

    async def worker(msg) -> None:
        labels = json.loads(msg.data)
        context.restore(json.loads(labels["webos_context"]))  # what ContextMiddleware.pre_execute does
        with tracing.start_span("task run", kind=SpanKind.CONSUMER):
            task_ran.set_result(context.trace_id.get())

    await nc.subscribe(task_subject, cb=worker)
    await bus.start()

    service_router = APIRouter()

    @service_router.post("/things")
    async def create_thing() -> dict[str, str]:
        with tracing.start_span(f"{entity}:created publish", kind=SpanKind.PRODUCER):
            await bus.emit(f"{entity}:created", {"n": 1})
        return {"ok": "yes"}

    try:
        async with serve_app(_app("service", service_router)) as service_url, \
                httpx.AsyncClient(base_url=service_url) as upstream:
            tracing.instrument_httpx(upstream)
            edge_router = APIRouter()

            @edge_router.post("/api/things")
            async def proxy(request: Request) -> dict[str, str]:
                return (await upstream.post("/things")).json()

            async with lifespan_client(_app("edge", edge_router)) as client:
                resp = await client.post("/api/things",
                                         headers={"traceparent": f"00-{CLIENT_TRACE}-b7ad6b7169203331-01"})
                assert resp.status_code == 200
                assert await asyncio.wait_for(task_ran, 10) == CLIENT_TRACE
    finally:
        await bus.close()
        await nc.close()

    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert {f"{entity}:created publish", f"{entity}:created process", "task run"} <= names
    kinds = [s.kind for s in spans]
    assert kinds.count(SpanKind.SERVER) >= 2 and SpanKind.CLIENT in kinds
    assert {format(s.context.trace_id, "032x") for s in spans} == {CLIENT_TRACE}
    by_name = {s.name: s for s in spans}
    process, task = by_name[f"{entity}:created process"], by_name["task run"]
    assert task.parent.span_id == process.context.span_id
