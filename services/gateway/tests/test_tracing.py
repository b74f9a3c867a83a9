"""With an exporter configured, the edge (what `python -m webos_gateway` serves)
records a server span for proxied requests in the client's trace, and the
upstream continues that span."""

from __future__ import annotations

import contextlib
import uuid

import httpx
from fastapi import FastAPI, Request
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from webos_common import context
from webos_common.observability import tracing
from webos_common.testing import serve_app
from webos_gateway.main import create_edge
from webos_gateway.settings import GatewaySettings

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _core_app() -> FastAPI:
    """Stands in for auth: echoes the headers it was sent."""
    app = FastAPI()

    @app.post("/login")
    async def login(request: Request) -> dict[str, dict[str, str]]:
        return {"headers": dict(request.headers)}

    return app


async def test_proxied_requests_get_a_server_span_in_the_clients_trace(nats_url: str) -> None:
    exporter = InMemorySpanExporter()
    tracing.setup_tracing("gateway", exporter=exporter, env={})
    try:
        async with contextlib.AsyncExitStack() as stack:
            core_url = await stack.enter_async_context(serve_app(_core_app()))
            settings = GatewaySettings(env="test", nats_url=nats_url, registry_bucket=f"gw_{uuid.uuid4().hex[:8]}",
                                       auth_url=core_url, storage_url=core_url, settings_url=core_url,
                                       events_url=core_url, shell_url=core_url)
            url = await stack.enter_async_context(serve_app(create_edge(settings)))
            async with httpx.AsyncClient(base_url=url) as client:
                resp = await client.post("/api/auth/login", json={},
                                         headers={"traceparent": f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"})
        assert resp.status_code == 200
        seen = context.parse_traceparent(resp.json()["headers"]["traceparent"])
        spans = exporter.get_finished_spans()
        # named by route template (bounded), with the stable HTTP attributes
        server = next(s for s in spans if s.kind == SpanKind.SERVER and s.name == "POST /api/auth/{path}")
        assert server.attributes["http.route"] == "/api/auth/{path}"
        assert server.attributes["http.request.method"] == "POST" and "http.method" not in server.attributes
        assert format(server.context.trace_id, "032x") == CLIENT_TRACE
        assert format(server.parent.span_id, "016x") == "00f067aa0ba902b7"  # the edge continues the client's
        # one CLIENT span for the upstream call, under the server span; the upstream continues it
        (upstream,) = [s for s in spans if s.kind == SpanKind.CLIENT]
        assert upstream.parent.span_id == server.context.span_id
        assert upstream.attributes["http.response.status_code"] == 200
        assert upstream.attributes["url.full"] == f"{core_url}/login"
        assert seen is not None and seen[0] == CLIENT_TRACE
        assert seen[1] == format(upstream.context.span_id, "016x")
        assert resp.headers.get_list("traceparent") == [resp.headers["traceparent"]]  # each trace header once
        assert len(resp.headers.get_list("x-request-id")) == 1
    finally:
        tracing.setup_tracing("gateway", env={})  # back to no exporter: the hot path stays span-free
