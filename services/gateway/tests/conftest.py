"""Gateway test rig: real uvicorn servers on loopback, a real NATS registry,
module hosts that announce a manifest and heartbeat, tokens from TestIssuer."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import pytest
from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.responses import StreamingResponse
from jose import jwt

from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry
from webos_common.security.testing import TestIssuer
from webos_common.testing import serve_app
from webos_gateway.main import create_app
from webos_gateway.settings import GatewaySettings

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def echo_app(prefix: str, *, label: str) -> FastAPI:
    """Answers every path under `prefix` with what it received."""
    app = FastAPI(title=f"echo {label}")
    app.state.healthy = True

    @app.middleware("http")
    async def trace_headers(request: Request, call_next: Any) -> Response:
        """Answer with the trace headers it was sent, as every WebOS service's middleware does."""
        response: Response = await call_next(request)
        for name in ("traceparent", "x-request-id"):
            if name in request.headers:
                response.headers[name] = request.headers[name]
        return response

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        return Response(status_code=200 if app.state.healthy else 503)

    @app.api_route(prefix + "/slow", methods=["GET", "POST"], include_in_schema=False)
    async def slow(request: Request) -> dict[str, Any]:
        """Its head 2.5 s after the whole request (its body read first)."""
        received = len(await request.body())
        await asyncio.sleep(2.5)
        return {"slow": True, "received": received}

    @app.get(prefix + "/chunks", include_in_schema=False)
    async def chunks(n: int = 3, pause: float = 0.0) -> StreamingResponse:
        """`n` parts, `pause` s apart."""
        async def parts() -> AsyncIterator[bytes]:
            for i in range(n):
                if i and pause:
                    await asyncio.sleep(pause)
                yield f"part{i};".encode()
        return StreamingResponse(parts(), media_type="text/plain")

    @app.get(prefix + "/bare-503", include_in_schema=False)
    async def bare_503() -> Response:  # a module's own outage answer, without Retry-After
        return Response(b'{"error": {"code": "unavailable"}}', status_code=503, media_type="application/json")

    @app.get(prefix + "/items/{item_id}", include_in_schema=True)
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.api_route(prefix + "/{path:path}", methods=METHODS, include_in_schema=False)
    async def echo(request: Request, path: str) -> dict[str, Any]:
        body = await request.body()
        return {"label": label, "path": request.url.path, "raw_path": request.scope["raw_path"].decode(),
                "query": request.url.query,
                "headers": dict(request.headers), "body_len": len(body)}

    @app.websocket(prefix + "/ws")
    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        user = _caller(websocket.headers)
        while True:
            text = await websocket.receive_text()
            await websocket.send_text(f"{user}:{text}")

    return app


def _caller(headers: Any) -> str:
    """Who the request's own credential names (bearer token or `access_token` cookie): what a
    service verifies itself; the gateway forwards the credential, never a claim about it."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        cookies = dict(part.strip().partition("=")[::2] for part in headers.get("cookie", "").split(";"))
        token = cookies.get("access_token", "")
    return str(jwt.get_unverified_claims(token)["sub"]) if token else "-"


@dataclass
class ModuleHost:
    name: str
    app: FastAPI
    manifest: ModuleManifest
    registry: ModuleRegistry
    beat: asyncio.Task[None]
    stopper: contextlib.AsyncExitStack

    def stop_heartbeat(self) -> None:
        self.beat.cancel()

    async def kill(self) -> None:
        self.beat.cancel()
        await self.stopper.aclose()


@dataclass
class Rig:
    url: str
    issuer: TestIssuer
    registry: ModuleRegistry
    core_url: str
    app: Any
    stack: contextlib.AsyncExitStack

    async def start_module(self, name: str, *, public: tuple[str, ...] = ()) -> ModuleHost:
        instance = uuid.uuid4().hex[:8]
        stopper = contextlib.AsyncExitStack()
        app = echo_app(f"/api/{name}", label=instance)
        base = await stopper.enter_async_context(serve_app(app))
        manifest = ModuleManifest(name=name, instance_id=instance, base_url=base, public_prefixes=list(public))
        await self.registry.announce(manifest)
        beat = asyncio.create_task(self.registry.heartbeat(manifest, interval=0.3))
        host = ModuleHost(name, app, manifest, self.registry, beat, stopper)
        self.stack.push_async_callback(host.kill)
        return host


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def rig(nats_url: str, issuer: TestIssuer, request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    overrides: dict[str, Any] = getattr(request, "param", {}) or {}
    bucket = f"gw_{uuid.uuid4().hex[:10]}"
    nc = await nats.connect(nats_url)
    registry = ModuleRegistry(nc.jetstream(), bucket=bucket, ttl=1.5)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(nc.close)
        core_url = await stack.enter_async_context(serve_app(_core_app()))
        settings = GatewaySettings(
            env="test", nats_url=nats_url, registry_bucket=bucket, auth_url=core_url, storage_url=core_url,
            settings_url=core_url, events_url=core_url, shell_url=core_url,
            **{"instance_backoff": 0.5, "health_interval": 0.2, **overrides},
        )
        app = create_app(settings)
        app.state.resources.verifier = issuer.verifier()
        url = await stack.enter_async_context(serve_app(app))
        yield Rig(url, issuer, registry, core_url, app, stack)


def _core_app() -> FastAPI:
    """One process standing in for every core service and the shell: echoes
    everything, serves an OpenAPI document and a WebSocket echo."""
    app = echo_app("", label="core")

    @app.api_route("/", methods=METHODS, include_in_schema=False)
    async def root(request: Request) -> dict[str, Any]:
        return {"label": "core", "path": "/", "headers": dict(request.headers)}

    return app
