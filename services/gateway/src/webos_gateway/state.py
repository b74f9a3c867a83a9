"""`Gateway`: what the data path needs per request — request inspection,
token check, rate limits, body limits, upstream choice — in one object
built by `main.create_app` and filled in at startup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from webos_common import context
from webos_common.http.errors import RETRY_AFTER, Unauthorized, WebOSError
from webos_common.http.service import ServiceResources
from webos_common.identity import User
from webos_common.observability import tracing
from webos_gateway.policy import OriginCheck, SecurityHeaders
from webos_gateway.ratelimit import RateLimits
from webos_gateway.rawclient import RawPool
from webos_gateway.refusal import Refused
from webos_gateway.routing import HealthChecker, ModuleTable, Route
from webos_gateway.settings import GatewaySettings
from webos_gateway.telemetry import AccessLog, GatewayMetrics
from webos_gateway.upstream import DROP_REQUEST

_READ = frozenset({b"authorization", b"cookie", b"content-length", b"origin", b"sec-fetch-site"})
_WS_DROP = frozenset({b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions",
                      b"sec-websocket-protocol"})


@dataclass(slots=True)
class RequestInfo:
    headers: list[tuple[bytes, bytes]]
    token: str | None
    content_length: int | None
    has_body: bool
    trace: str
    span: str
    request_id: str
    host: bytes | None = None
    https: bool = False
    cookie_auth: bool = False  # cookies sent and no bearer token: a browser's ambient credential
    origin: bytes | None = None
    fetch_site: bytes | None = None
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class Gateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.limits = RateLimits(user=settings.rate_limit_user, module=settings.rate_limit_module,
                                 overrides=settings.rate_limit_modules, strategy=settings.rate_limit_strategy,
                                 shared=settings.rate_limit_store == "nats")
        self.public_exact = frozenset(p.rstrip("/") for p in settings.public_paths)
        self.public_prefixes = tuple(p if p.endswith("/") else p + "/" for p in settings.public_paths)
        self.body_limits = sorted(settings.body_limits.items(), key=lambda kv: -len(kv[0]))
        self.core = {"auth": settings.auth_url, "storage": settings.storage_url,
                     "settings": settings.settings_url, "events": settings.events_url}
        self.core = {name: url.rstrip("/") for name, url in self.core.items()}
        self.shell = settings.shell_url.rstrip("/")
        self.headers = SecurityHeaders()
        own = [o for o in (settings.public_url, settings.gateway_url) if o]
        self.origins = OriginCheck([*settings.cors_origins, *settings.trusted_origins, *own])
        # set by main at build and at startup
        self.resources: ServiceResources
        self.metrics: GatewayMetrics
        self.table: ModuleTable
        self.health: HealthChecker | None = None  # asked again when every instance failed its last check
        self.session: aiohttp.ClientSession
        self.pool: RawPool
        self.access_log = AccessLog(mode=settings.access_log, fmt=settings.log_format,
                                    service=settings.service_name)

    # -- request -------------------------------------------------------------
    def check_origin(self, scope: dict[str, Any], req: RequestInfo) -> None:
        self.origins.check(method=scope.get("method", "GET"), cookie_auth=req.cookie_auth, origin=req.origin,
                           fetch_site=req.fetch_site, host=req.host, websocket=scope["type"] == "websocket")

    def inspect(self, scope: dict[str, Any]) -> RequestInfo:
        forward: list[tuple[bytes, bytes]] = []
        seen: dict[bytes, bytes] = {}  # the headers the edge reads (a dropped one, or one in _READ)
        websocket = scope["type"] == "websocket"
        for name, value in scope["headers"]:
            if name in DROP_REQUEST:
                seen[name] = value
                continue
            if websocket and name in _WS_DROP:
                continue
            if name in _READ:
                seen[name] = value
            forward.append((name, value))
        traceparent, rid, host = seen.get(b"traceparent"), seen.get(b"x-request-id"), seen.get(b"host")
        auth, cookie, length = seen.get(b"authorization"), seen.get(b"cookie"), seen.get(b"content-length")
        origin, fetch_site, encoding = seen.get(b"origin"), seen.get(b"sec-fetch-site"), seen.get(b"transfer-encoding")
        trace, span, request_id = context.begin(  # with the edge's server span, when spans are exported
            traceparent.decode("latin-1") if traceparent else None, rid.decode("latin-1") if rid else None,
            tracing.recorded_span_ids())
        tp = context.format_traceparent(trace, span)
        tp_bytes = tp.encode()
        rid_bytes = request_id.encode()
        client = scope.get("client")  # the real client: ProxyHeadersMiddleware believed trusted proxies only
        client_ip = client[0].encode() if client else b"unknown"
        https = scope.get("scheme") in ("https", "wss")
        forward += (
            (b"traceparent", tp_bytes), (b"x-request-id", rid_bytes),
            (b"x-forwarded-for", client_ip), (b"x-forwarded-proto", b"https" if https else b"http"),
        )
        if host:
            forward.append((b"x-forwarded-host", host))
        content_length = int(length) if length and length.isdigit() else None
        bearer = _bearer(auth)
        token = bearer or (_cookie_token(cookie) if cookie else None)
        return RequestInfo(
            headers=forward, token=token, content_length=content_length,
            has_body=bool(encoding) or bool(content_length), trace=trace, span=span, request_id=request_id,
            host=host, https=https, cookie_auth=bearer is None and cookie is not None, origin=origin,
            fetch_site=fetch_site,
            response_headers=[(b"x-request-id", rid_bytes), (b"traceparent", tp_bytes)],
        )

    async def authenticate(self, scope: dict[str, Any], route: Route, req: RequestInfo) -> User | None:
        if route.kind == "shell":
            return None
        public = self.is_public(scope["path"], route)
        if req.token is None:
            if public:
                return None
            raise Refused(401, "unauthorized", "Sign-in required", None, [(b"www-authenticate", b"Bearer")])
        verifier = self.resources.verifier
        try:
            if verifier is None:
                raise Unauthorized("The gateway has no token verifier")
            user = await verifier.verify(req.token)
        except Unauthorized as exc:
            if public:
                return None
            raise Refused(401, "unauthorized", exc.message, None,
                          [(b"www-authenticate", b'Bearer error="invalid_token"')]) from exc
        except WebOSError as exc:
            raise Refused(exc.status, exc.code, exc.message, exc.details) from exc
        context.current_user.set(user)  # for the access log and limits; the service verifies the token itself
        return user

    def is_public_path(self, path: str) -> bool:
        """`is_public` for a path alone (the merged OpenAPI document marks these `security: []`)."""
        if path in self.public_exact or path.startswith(self.public_prefixes):
            return True
        parts = path.split("/", 3)
        prefixes = self.table.public.get(parts[2]) if len(parts) > 2 and parts[1] == "api" else None
        return prefixes is not None and path.startswith(prefixes)

    def is_public(self, path: str, route: Route) -> bool:
        if path in self.public_exact or path.startswith(self.public_prefixes):
            return True
        if route.kind == "module":
            prefixes = self.table.public.get(route.name)
            return prefixes is not None and path.startswith(prefixes)
        return False

    async def check_limits(self, scope: dict[str, Any], route: Route, user: User | None) -> None:
        if route.kind == "shell":
            return
        if user is not None:
            key = user.id
        else:
            client = scope.get("client")
            key = f"ip:{client[0] if client else 'unknown'}"
        wait = await self.limits.check_user(key)
        if wait is not None:
            raise _rate_limited("you", wait, None)

    async def check_module_limit(self, route: Route) -> None:
        if route.kind == "module":
            wait = await self.limits.check_module(route.name)
            if wait is not None:
                raise _rate_limited(f"module {route.name}", wait, route.name)

    def body_limit(self, path: str) -> int:
        for prefix, limit in self.body_limits:
            if path.startswith(prefix):
                return limit
        return self.settings.max_body_bytes

    # -- upstreams -----------------------------------------------------------
    def upstreams(self, route: Route) -> list[tuple[str, str | None]]:
        if route.kind == "core":
            return [(self.core[route.name], None)]
        if route.kind == "shell":
            return [(self.shell, None)]
        name = route.name
        if not self.table.is_enabled(name):
            raise Refused(503, "module_disabled", f"Module {name} is disabled", {"module": name})
        candidates = self.table.candidates(name)
        if not candidates:
            if self.table.instances.get(name):
                raise Refused(*self.unavailable(route, "no healthy instance"))
            if name in self.table.seen:
                raise Refused(*self.unavailable(route, "no live instance"))
            raise Refused(404, "not_found", f"No module or service named {name}", {"module": name})
        return [(m.base_url.rstrip("/"), m.instance_id) for m in candidates]

    async def live_upstreams(self, route: Route) -> list[tuple[str, str | None]]:
        """`upstreams`, except that a module whose every instance failed its last health check
        is probed again first: one back since then is served now, not at the next round."""
        try:
            return self.upstreams(route)
        except Refused as exc:
            recovered = (route.kind == "module" and self.health is not None
                         and (exc.details or {}).get("reason") == "no healthy instance"
                         and await self.health.recheck(route.name))
            if not recovered:
                raise
            return self.upstreams(route)

    def unavailable(self, route: Route, reason: str
                    ) -> tuple[int, str, str, dict[str, Any], list[tuple[bytes, bytes]]]:
        """A 503 for an upstream out of reach, with the platform's Retry-After (an outage, not a bug)."""
        retry = [(b"retry-after", str(RETRY_AFTER).encode())]
        if route.kind == "module":
            return (503, "module_unavailable", f"Module {route.name} is not available",
                    {"module": route.name, "reason": reason}, retry)
        return (503, "unavailable", f"{route.name} is not available", {"service": route.name, "reason": reason},
                retry)


def _rate_limited(what: str, wait: int, module: str | None) -> Refused:
    return Refused(429, "rate_limited", f"Too many requests for {what}; retry in {wait} s",
                   {"retry_after": wait, "module": module}, [(b"retry-after", str(wait).encode())])


def _bearer(value: bytes | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _cookie_token(cookie: bytes) -> str | None:
    for part in cookie.decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "access_token" and value:
            return value.strip('"')
    return None
