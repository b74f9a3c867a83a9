"""One trace id from the edge to a task, over real HTTP, JetStream and TaskIQ:

client → edge app (server span) → httpx (client span) → service app (server
span) → bus emit (producer span, opened by the bus) → bus handler (consumer
span, opened by the bus) → `run_bg` (send span, TaskIQ middleware) → worker
(run span, TaskIQ middleware). No span is opened by hand here.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import nats
from fastapi import APIRouter, Request
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from webos_common import context
from webos_common.bus import BusSettings, EventBus
from webos_common.bus.envelope import EventEnvelope
from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.observability import tracing
from webos_common.tasks import run_bg, task, wait
from webos_common.tasks.worker import running_worker
from webos_common.testing import lifespan_client, serve_app

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
SEEN: dict[str, str | None] = {}


@task
async def traced_task(key: str) -> str:
    SEEN[key] = context.trace_id.get()
    return "ok"


def _app(name: str, router: APIRouter):
    return create_service_app(name, settings=WebOSSettings(env="test"), use_mongo=False, use_nats=False,
                              routers=[router])


async def test_one_trace_id_from_the_edge_to_a_task(nats_url) -> None:
    exporter = InMemorySpanExporter()
    tracing.setup_tracing("chain", exporter=exporter, env={})
    entity = f"t{uuid.uuid4().hex[:10]}"
    nc = await nats.connect(nats_url)
    bus = EventBus(nc, service=f"svc{entity}", settings=BusSettings(backoff=[0.05], max_deliver=2))
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @bus.on(f"{entity}:created")
    async def on_created(event: EventEnvelope) -> None:
        started.set_result((await run_bg(traced_task, entity)).task_id)

    await bus.start()
    service_router = APIRouter()

    @service_router.post("/things")
    async def create_thing() -> dict[str, str]:
        await bus.emit(f"{entity}:created", {"n": 1})
        return {"ok": "yes"}

    try:
        async with running_worker(nats_url), serve_app(_app("service", service_router)) as service_url, \
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
                task_id = await asyncio.wait_for(started, 10)
                assert (await wait(task_id, timeout=15)).state.value == "succeeded"
    finally:
        await bus.close()
        await nc.close()

    assert SEEN[entity] == CLIENT_TRACE
    spans = exporter.get_finished_spans()
    by_name = {s.name: s for s in spans}
    publish, process = by_name[f"{entity}:created publish"], by_name[f"{entity}:created process"]
    send = next(s for s in spans if s.name.endswith("traced_task send"))
    run = next(s for s in spans if s.name.endswith("traced_task run"))
    assert (publish.kind, process.kind, send.kind, run.kind) == (
        SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.PRODUCER, SpanKind.CONSUMER)
    chain = [s for s in spans if s.kind in (SpanKind.SERVER, SpanKind.CLIENT)] + [publish, process, send, run]
    assert {format(s.context.trace_id, "032x") for s in chain} == {CLIENT_TRACE}
    assert process.parent.span_id == publish.context.span_id  # the handler continues the producer's span
    assert send.parent.span_id == process.context.span_id
    assert run.parent.span_id == send.context.span_id  # the worker continues the sender's span
