"""One span tree from the edge to a bus handler, as exported over OTLP/HTTP to a receiver the test
runs (protobuf `ExportTraceServiceRequest`s on `POST /v1/traces`, decoded with opentelemetry-proto),
through the SDK's own OTLP exporter and batch processor:

gateway SERVER → gateway CLIENT → module host SERVER → outbox relay PRODUCER → handler CONSUMER.

The gateway and a module host (a module written by the test, its event written through the outbox)
run in this process on real ports, over real MongoDB and NATS."""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from webos_common.infra.process import free_port
from webos_common.observability import tracing
from webos_common.testing import serve_app
from webos_gateway.main import create_edge
from webos_gateway.settings import GatewaySettings
from webos_modulehost import create_app as create_host
from webos_modulehost.settings import ModuleHostSettings

CLIENT_TRACE, CLIENT_SPAN = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}

MODULE = {
    "__init__.py": '"""A module made by the span tree test."""\n',
    "plugin.py": """
        from webos_common.documents import EventPublisher

        def webos_register_event_handlers():
            from webos_NAME.handlers import on_made
            return {"NAME:made": on_made}

        def webos_startup(ctx):
            from webos_NAME import handlers
            handlers.SERVICES["events"] = ctx.services.get(EventPublisher)
    """,
    "handlers.py": """
        import asyncio

        SERVICES = {}
        HANDLED = asyncio.Event()

        async def on_made(event):
            HANDLED.set()
    """,
    "router_public.py": """
        from fastapi import APIRouter
        from webos_NAME.handlers import SERVICES

        router = APIRouter()

        @router.post("/make", status_code=201)
        async def make() -> dict:
            await SERVICES["events"].emit("NAME:made", {"n": 1})  # through the outbox
            return {"ok": True}
    """,
}


def receiver(spans: list[dict[str, Any]]) -> Any:
    """A bare ASGI app (a FastAPI one would trace its own requests: spans about exporting spans)."""
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        if scope["path"] == "/v1/traces":
            collect(spans, ExportTraceServiceRequest.FromString(body))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/x-protobuf")]})
        await send({"type": "http.response.body", "body": ExportTraceServiceResponse().SerializeToString()})

    return app


def collect(spans: list[dict[str, Any]], export: ExportTraceServiceRequest) -> None:
    for resource in export.resource_spans:
        for scope in resource.scope_spans:
            spans.extend({"name": s.name, "kind": KINDS.get(s.kind, str(s.kind)), "trace": s.trace_id.hex(),
                          "id": s.span_id.hex(), "parent": s.parent_span_id.hex(),
                          "attributes": {a.key: a.value for a in s.attributes}} for s in scope.spans)


def write_module(root: Path, name: str) -> None:
    package = root / name / "src" / f"webos_{name}"
    package.mkdir(parents=True)
    (root / name / "pyproject.toml").write_text(
        f'[project]\nname = "webos-{name}"\nversion = "0.1.0"\n\n'
        f'[project.entry-points."webos.modules"]\n{name} = "webos_{name}.plugin"\n')
    for path, text in MODULE.items():
        (package / path).write_text(textwrap.dedent(text).replace("NAME", name))


@pytest.fixture
async def exported(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[dict[str, Any]]]:
    """Spans of this process exported over OTLP/HTTP to a receiver on a real port."""
    spans: list[dict[str, Any]] = []
    async with serve_app(receiver(spans)) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        provider = tracing.setup_tracing("span-tree", env={"OTEL_EXPORTER_OTLP_ENDPOINT": url})
        assert provider is not None and tracing.active()
        try:
            yield spans
            await asyncio.to_thread(provider.force_flush)  # the exporter posts from its own thread
        finally:
            tracing.setup_tracing("gateway", env={})  # back to no exporter: other tests' hot paths stay span-free
            await asyncio.to_thread(provider.shutdown)


async def test_one_span_tree_from_the_gateway_through_the_outbox_to_the_handler(
        webos_env: dict[str, str], nats_url: str, tmp_path: Path, exported: list[dict[str, Any]]) -> None:
    name, bucket, port = f"st{uuid.uuid4().hex[:8]}", f"gw_{uuid.uuid4().hex[:8]}", free_port()
    write_module(tmp_path, name)
    host = create_host(name, settings=ModuleHostSettings(module=name, service_name=name, modules_dir=str(tmp_path),
                                                         registry_bucket=bucket, port=port))
    nowhere = f"http://127.0.0.1:{free_port()}"
    edge = create_edge(GatewaySettings(env="test", nats_url=nats_url, registry_bucket=bucket, auth_url=nowhere,
                                       storage_url=nowhere, settings_url=nowhere, events_url=nowhere,
                                       shell_url=nowhere, public_paths=[f"/api/{name}/public/"]))
    handled = None
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(serve_app(host, port=port))
        url = await stack.enter_async_context(serve_app(edge))
        handled = __import__(f"webos_{name}.handlers", fromlist=["HANDLED"]).HANDLED
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            response = await _when_routed(client, f"/api/{name}/public/make")
        assert response.status_code == 201, response.text
        await asyncio.wait_for(handled.wait(), 15)
    await asyncio.to_thread(tracing.provider().force_flush)  # type: ignore[attr-defined]

    by_id = {s["id"]: s for s in exported if s["trace"] == CLIENT_TRACE}
    consumer = next(s for s in by_id.values() if s["name"] == f"{name}:made process")
    chain = [consumer]
    while chain[-1]["parent"] in by_id:
        chain.append(by_id[chain[-1]["parent"]])
    assert chain[-1]["parent"] == CLIENT_SPAN  # the root continues the caller's span
    hops = [(s["kind"], s["name"]) for s in reversed(chain) if s["kind"] != "INTERNAL"]
    assert hops == [("SERVER", f"POST /api/{name}/{{path}}"), ("CLIENT", f"POST /api/{name}/{{path}}"),
                    ("SERVER", f"POST /api/{name}/public/make"), ("PRODUCER", f"{name}:made publish"),
                    ("CONSUMER", f"{name}:made process")]
    producer = next(s for s in chain if s["kind"] == "PRODUCER")
    for span, operation in ((producer, "send"), (consumer, "process")):
        assert span["attributes"]["messaging.system"].string_value == "nats"
        assert span["attributes"]["messaging.operation.type"].string_value == operation
        assert span["attributes"]["messaging.destination.name"].string_value.endswith(f".{name}.made")


async def _when_routed(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """The POST once the gateway sees the module in the registry (it follows the bucket live)."""
    headers = {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}
    for _ in range(100):
        response = await client.post(path, headers=headers)
        if response.status_code not in (404, 502, 503):
            return response
        await asyncio.sleep(0.1)
    return response
