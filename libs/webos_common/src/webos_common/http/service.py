"""`create_service_app`: the one way a WebOS HTTP service is built.

Every service gets the same middleware (request id, traceparent, context),
error handlers, `/healthz`, `/readyz` (the dependencies it declares:
MongoDB ping, NATS connected, plus its own checks), `/metrics` and
`/event-schemas.json` (the payload schemas of the events it emits).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from loguru import logger
from nats.aio.client import Client as NATS
from pymongo import AsyncMongoClient
from uvicorn import server as uvicorn_server
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from webos_common.bus import BusSettings, EventBus, identity
from webos_common.bus.connection import connect_nats
from webos_common.bus.identity import BusIdentity
from webos_common.bus.schemas import payload_schemas
from webos_common.config import WebOSSettings
from webos_common.documents import db
from webos_common.http import openapi
from webos_common.http.errors import Unavailable, install_error_handlers
from webos_common.http.heap import tune_allocator
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.http.middleware import RequestContextMiddleware
from webos_common.http.startup import Gate
from webos_common.observability import tracing
from webos_common.observability.log_sink import NatsLogSink, install_log_sink
from webos_common.observability.logging import configure_logging
from webos_common.observability.metrics import HttpMetrics
from webos_common.security import HttpJWKS, TokenVerifier
from webos_common.security.jwks import JWKSSource
from webos_common.security.nats_permissions import KERNEL_EVENTS
from webos_common.security.service_auth import ServiceCredentials

Hook = Callable[[FastAPI], Awaitable[None]]
NO_NATIVE_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
Check = Callable[[], Awaitable[None]]


@dataclass
class ServiceResources:
    """What the lifespan connected; services reach it through `app.state.resources`."""

    name: str
    settings: WebOSSettings
    mongo: AsyncMongoClient[Any] | None = None
    nats: NATS | None = None
    checks: dict[str, Check] = field(default_factory=dict)
    verifier: TokenVerifier | None = None
    bus: EventBus | None = None
    credentials: ServiceCredentials | None = None  # to call other services as itself (service_auth.py)
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run `coro` for the service's lifetime; cancelled at shutdown within `shutdown_deadline`."""
        task = asyncio.create_task(coro, name=f"{self.name}:{name}")
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    @property
    def db(self) -> Any:
        if self.mongo is None:
            raise Unavailable(f"{self.name} has no MongoDB connection")
        return self.mongo[self.settings.mongo_db]

    async def readiness(self) -> dict[str, str]:
        results: dict[str, str] = {}

        async def run(name: str, check: Check) -> None:
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                results[name] = f"failed: {type(exc).__name__}: {exc}"[:300]

        await asyncio.gather(*(run(n, c) for n, c in self.checks.items()))
        return results


def get_resources(request: Request) -> ServiceResources:
    resources: ServiceResources = request.app.state.resources
    return resources


def create_service_app(
    name: str,
    *,
    settings: WebOSSettings | None = None,
    documents: Sequence[type] = (),
    use_mongo: bool = True,
    use_nats: bool = True,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    checks: dict[str, Check] | None = None,
    version: str = "0.1.0",
    **fastapi_options: Any,
) -> FastAPI:
    settings = settings or WebOSSettings(service_name=name)
    # people's tokens (`webos`), and service tokens auth issued for calls to this service (its name)
    verifier = TokenVerifier(
        HttpJWKS(settings.effective_jwks_url), issuer=settings.issuer, audience=(settings.jwt_audience, name)
    )
    resources = ServiceResources(name=name, settings=settings, checks=dict(checks or {}), verifier=verifier,
                                 credentials=ServiceCredentials.from_settings(settings))
    metrics = HttpMetrics(name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, level=settings.log_level, fmt=settings.log_format)
        log_sink: NatsLogSink | None = None
        if use_mongo:
            resources.mongo = db.mongo_client(settings.mongo_url, timeout=settings.mongo_timeout, appname=name)
            mongo = resources.mongo
            resources.checks.setdefault("mongodb", lambda: db.ping(mongo))
            await db.wait_for_mongo(mongo, settings.mongo_url, deadline=settings.startup_deadline)
            await db.init_documents(mongo, settings.mongo_db, documents)
        if use_nats:
            resources.nats = await connect_nats(settings.nats_url, name=name, credential_file=settings.credential_file,
                                                principal=settings.principal or name, ca_file=settings.nats_ca_file,
                                                deadline=settings.startup_deadline)
            nc = resources.nats
            resources.checks.setdefault("nats", lambda: _nats_connected(nc))
            log_sink = await install_log_sink(nc, name, level=settings.log_level)
            if resources.verifier is not None:  # tests may have swapped it
                await resources.verifier.follow(nc)  # sign-outs and revoked keys apply at once
            resources.bus = EventBus(nc, service=settings.principal or name,  # events go out under its NATS name
                                     identity=bus_identity(resources))
            await resources.bus.start()
        await_jwks(resources)
        for hook in on_startup:
            await hook(app)
        if resources.bus is not None:
            await resources.bus.wait_ready()
        logger.info("{} started", name)
        try:
            yield
        finally:
            for hook in reversed(on_shutdown):
                try:
                    await hook(app)
                except Exception:  # noqa: BLE001 - shutdown goes on
                    logger.exception("shutdown hook failed")
            await cancel_and_wait(list(resources.background), deadline=settings.shutdown_deadline,
                                  what=f"{name} shutdown")
            if resources.bus is not None:
                await resources.bus.close()
            if log_sink is not None:
                await log_sink.close()
            if resources.nats is not None:
                await resources.nats.drain()
            if resources.mongo is not None:
                await resources.mongo.close()
            if resources.credentials is not None:
                await resources.credentials.aclose()

    # FastAPI's own OpenTelemetry would make spans (and their operations' spans) on every request
    # through the SDK provider even when nothing exports them: the server spans are
    # `tracing.instrument_app`'s below, only when exported
    fastapi_options.setdefault("telemetry", NO_NATIVE_TELEMETRY)
    app = FastAPI(title=f"WebOS {name}", version=version, lifespan=lifespan, **fastapi_options)
    app.state.resources = resources
    app.state.metrics = metrics
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    if tracing.active():  # spans only when exported: ~0.4 ms per request otherwise spent for nothing
        tracing.instrument_app(app)  # after the context middleware: server spans join the request's trace
    # outermost: every layer below sees the real client, as believed from trusted proxies only
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_error_handlers(app)
    app.include_router(_health_router(resources, metrics))
    for router in routers:
        app.include_router(router)
    openapi.install(app)
    return app


def await_jwks(resources: ServiceResources) -> None:
    """Tokens cannot be checked before auth's keys are in: until then the service is not ready
    (`/readyz` names auth's JWKS) while a background loop fetches them. Once they came, an auth
    outage no longer matters here: the keys are cached."""
    jwks = resources.verifier.jwks if resources.verifier is not None else None
    if isinstance(jwks, HttpJWKS) and resources.settings.awaits_jwks:
        gate = Gate(f"auth's JWKS at {jwks.url}", jwks.load, max_wait=2.0)  # a cheap GET: ready soon after auth
        resources.checks.setdefault("jwks", gate.check)
        resources.spawn(gate.wait(), name="jwks-gate")


async def _nats_connected(nc: NATS) -> None:
    if not nc.is_connected:
        raise ConnectionError("NATS not connected")


def bus_identity(resources: ServiceResources) -> BusIdentity:
    """Signed identity on this process's bus (see `identity_for`), sharing its verifier's keys."""
    verifier = resources.verifier
    return identity_for(resources.settings, resources.credentials, verifier.jwks if verifier else None,
                        revocations=verifier)  # the service's verifier follows auth's revocations


def identity_for(settings: WebOSSettings, credentials: ServiceCredentials | None,
                 jwks: JWKSSource | None = None, *, revocations: TokenVerifier | None = None) -> BusIdentity:
    """Bus tokens from auth by exchanging the person's credential (when the process has its own
    credential), checked against auth's keys; required wherever the process has its own credential.
    Services, module hosts and the task worker all build theirs here."""
    exchange = None
    if credentials is not None:
        def exchange_for_bus(credential: str) -> Awaitable[str]:
            return credentials.exchange(credential, identity.AUDIENCE)
        exchange = exchange_for_bus
    grace = BusSettings().identity_grace
    verifier = TokenVerifier(jwks or HttpJWKS(settings.effective_jwks_url), issuer=settings.issuer,
                             audience=identity.AUDIENCE, leeway=int(grace))
    return BusIdentity(exchange=exchange, verifier=verifier, required=not settings.may_provision, grace=grace,
                       revocations=revocations)


def _health_router(resources: ServiceResources, metrics: HttpMetrics) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": resources.name}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results = await resources.readiness()
        ready = all(v == "ok" for v in results.values())
        body = {"status": "ready" if ready else "not_ready", "service": resources.name, "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/event-schemas.json")
    async def event_schemas() -> dict[str, Any]:
        """The payload schemas of the events this service emits, by topic (the events service's
        catalogue merges them: it cannot import another service's models)."""
        role = KERNEL_EVENTS.get(resources.name)
        return payload_schemas(role.emits) if role is not None else {}

    @router.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return router


def run_service(factory: str, settings: WebOSSettings) -> None:
    """Serve `module:create_app` with uvicorn on the settings' host and port; exit non-zero when
    the start fails (a dependency out of reach within `startup_deadline`) or is interrupted."""
    import uvicorn

    from webos_common.compat.uvicorn import http_protocol

    configure_logging(settings.service_name, level=settings.log_level, fmt=settings.log_format)
    tune_allocator()  # streamed bodies: no mmap/munmap per chunk (see webos_common.http.heap)
    # A service process: spans exported when OTEL_EXPORTER_OTLP_ENDPOINT is set, httpx calls traced.
    tracing.setup_tracing(settings.service_name)
    if tracing.active():
        tracing.instrument_httpx()
    config = uvicorn.Config(
        factory, factory=True, host=settings.host, port=settings.port,
        http=http_protocol(coalesce=False),  # request bodies handed on uncopied
        log_config=None, log_level=settings.log_level.lower(), access_log=False,
        proxy_headers=False,  # the app's own ProxyHeadersMiddleware believes only trusted proxies
    )
    server = _Server(config)
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's own code for a failed start-up


class _Server(uvicorn_server.Server):
    """uvicorn notes SIGTERM during start-up but waits for the app's start (up to every
    dependency's deadline) before acting on it: here the start is abandoned at once."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if not self.started:
            logger.warning("{} during start-up: exiting", signal.Signals(sig).name)
            raise SystemExit(128 + sig)
