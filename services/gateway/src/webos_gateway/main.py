"""The gateway's app factories.

`create_app` is the FastAPI service app (health, readiness, metrics,
merged OpenAPI, docs) with the pure-ASGI proxy layer as its outermost
middleware. `create_edge` (what `python -m webos_gateway` serves) puts the
proxy layer in front of the FastAPI app instead, so proxied requests skip
Starlette's middleware stack entirely.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from webos_common.bus.streams import open_key_value
from webos_common.http.service import create_service_app
from webos_common.infra.provision import rate_limit_bucket
from webos_common.modules.registry import ModuleRegistry
from webos_common.observability import tracing
from webos_gateway import spans
from webos_gateway.openapi import OpenAPIMerger, openapi_router
from webos_gateway.proxy import ProxyMiddleware
from webos_gateway.rawclient import RawPool
from webos_gateway.routing import HealthChecker, ModuleTable
from webos_gateway.settings import GatewaySettings
from webos_gateway.state import Gateway
from webos_gateway.telemetry import GatewayMetrics
from webos_gateway.upstream import make_session


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    app = _service_app(settings or GatewaySettings())
    app.add_middleware(ProxyMiddleware, gateway=app.state.gateway)
    _add_cors(app, app.state.gateway.settings)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=app.state.gateway.settings.trusted_proxies)
    return app


def create_edge(settings: GatewaySettings | None = None) -> Any:
    settings = settings or GatewaySettings()
    app = _service_app(settings)
    edge: Any = ProxyMiddleware(app, gateway=app.state.gateway)
    if tracing.active():  # proxied requests never reach the FastAPI app's own instrumentation
        gw = app.state.gateway  # spans named by route template: modules the registry knows by name
        edge = tracing.instrument_asgi(edge, span_details=spans.server_span_details(
            lambda: getattr(getattr(gw, "table", None), "instances", ())))
    if settings.cors_origins:
        edge = CORSMiddleware(edge, **_cors_options(settings))
    # outermost: the client address (rate limits, X-Forwarded-For upstream) believes trusted proxies only
    return ProxyHeadersMiddleware(edge, trusted_hosts=settings.trusted_proxies)


def _service_app(settings: GatewaySettings) -> FastAPI:
    gw = Gateway(settings)
    merger = OpenAPIMerger(gw, ttl=settings.openapi_cache_seconds)
    checker = HealthChecker(None, lambda url: probe(gw, url), interval=settings.health_interval)  # type: ignore[arg-type]

    async def startup(app: FastAPI) -> None:
        nats = app.state.resources.nats
        registry = ModuleRegistry.of(nats.jetstream(), settings)
        gw.table = ModuleTable(registry, backoff=settings.instance_backoff)
        if gw.limits.shared:
            gw.limits.share(await open_key_value(nats.jetstream(), rate_limit_bucket(settings.rate_limit_bucket),
                                                 create=settings.may_provision))
        gw.session = make_session(pool_size=settings.upstream_pool_size,
                                  connect_timeout=settings.upstream_connect_timeout,
                                  read_timeout=settings.upstream_read_timeout)
        gw.pool = RawPool(connect_timeout=settings.upstream_connect_timeout,
                          head_timeout=settings.upstream_head_timeout, read_timeout=settings.upstream_read_timeout,
                          max_idle_per_upstream=settings.upstream_pool_size)
        await gw.table.start()
        checker.table = gw.table
        gw.health = checker
        checker.start()

    async def shutdown(app: FastAPI) -> None:
        await checker.stop()
        await gw.table.stop()
        gw.pool.close()
        await gw.session.close()
        gw.access_log.flush()

    async def registry_reachable() -> None:
        kv = await gw.table.registry.open()
        await asyncio.wait_for(kv.status(), timeout=2.0)
        if not gw.table.synced.is_set():
            raise ConnectionError("module table not loaded yet")

    app = create_service_app(
        "gateway", settings=settings, use_mongo=False, routers=[openapi_router(merger)],
        on_startup=[startup], on_shutdown=[shutdown], checks={"registry": registry_reachable},
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    gw.resources = app.state.resources
    gw.metrics = GatewayMetrics(app.state.metrics.registry)
    app.state.gateway = gw
    return app


async def probe(gw: Gateway, url: str) -> bool:
    try:
        async with gw.session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
            return 200 <= resp.status < 300
    except (aiohttp.ClientError, TimeoutError):
        return False


def _add_cors(app: FastAPI, settings: GatewaySettings) -> None:
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, **_cors_options(settings))


def _cors_options(settings: GatewaySettings) -> dict[str, Any]:
    return {
        "allow_origins": settings.cors_origins, "allow_credentials": settings.cors_allow_credentials,
        "allow_methods": ["*"], "allow_headers": ["*"], "max_age": settings.cors_max_age,
        "expose_headers": ["x-request-id", "traceparent", "retry-after"],
    }
