"""Configuration of the gateway service (env prefix `WEBOS_`).

Lists and dicts are read from the environment as JSON, e.g.
`WEBOS_CORS_ORIGINS='["https://intranet.example"]'`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from webos_common.config import WebOSSettings

CORE_SERVICES = ("auth", "storage", "settings", "events")

DEFAULT_PUBLIC_PATHS = [
    # auth's own sign-in flow and its public keys: no token exists yet
    "/api/auth/login", "/api/auth/register", "/api/auth/refresh", "/api/auth/logout",
    "/api/auth/verify-email", "/api/auth/password/", "/api/auth/.well-known/",
    "/api/auth/sso/", "/api/auth/introspect",
    # service accounts: the client assertion is the credential (auth checks it)
    "/api/auth/token",
    # WebOS as an OpenID Provider: each endpoint checks its own credential (an app's secret or
    # token, PKCE, the person's session for consent), and an app's token is no platform bearer
    "/api/auth/oauth/",
    # storage's signed share links are the credential themselves (storage checks the signature)
    "/api/storage/shares/",
    # the event catalogue, readable like the platform's OpenAPI document
    "/api/events/asyncapi.json",
]


class GatewaySettings(WebOSSettings):
    service_name: str = "gateway"
    port: int = 8700

    # the module registry (NATS KV bucket read live): WebOSSettings.registry_bucket
    # an instance that refused a connection is skipped for this long
    instance_backoff: float = 5.0
    # active health checks of module instances (their manifest's health_path); 0 disables
    health_interval: float = 5.0

    # paths (prefixes when they end in "/") that pass without a token
    public_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_PUBLIC_PATHS))

    # rate limits (the `limits` library's notation, ";"-separated); "" disables
    rate_limit_user: str = "50/second;1000/minute"
    rate_limit_module: str = "2000/second"
    rate_limit_modules: dict[str, str] = Field(default_factory=dict)  # per-module override
    rate_limit_strategy: str = "fixed-window"  # or "moving-window", "sliding-window-counter"
    # where counters live: "memory" (this replica's) or "nats" (a JetStream KV bucket every replica
    # shares, so N replicas hold one limit; fixed windows only). Set "nats" whenever replicas > 1.
    rate_limit_store: Literal["memory", "nats"] = "memory"
    rate_limit_bucket: str = "webos_ratelimits"

    # request body limit in bytes; per gateway path prefix overrides (0 = unlimited)
    max_body_bytes: int = 10 * 1024 * 1024
    body_limits: dict[str, int] = Field(default_factory=lambda: {"/api/storage/": 0})

    # CORS: empty list = no CORS headers (same-origin only)
    cors_origins: list[str] = Field(default_factory=list)
    cors_allow_credentials: bool = True
    cors_max_age: int = 600
    # origins besides this host (and public_url, cors_origins) whose pages may send cookie-authenticated
    # state changes and open WebSockets; everything else is refused as cross-site (CSRF)
    trusted_origins: list[str] = Field(default_factory=list)

    # upstream client. The head of an answer is due within `upstream_head_timeout` s of the request
    # (the platform's own clients give up after 30 s; an upstream that hangs is a prompt 504);
    # `upstream_read_timeout` bounds each wait for a body's next bytes and, after a streamed
    # upload, for the head: long downloads and uploads are never cut
    upstream_connect_timeout: float = 5.0
    upstream_head_timeout: float = 30.0
    upstream_read_timeout: float = 300.0
    upstream_pool_size: int = 256

    # access log: "fast" (own buffered writer), "loguru" (through loguru's sinks) or "off"
    access_log: str = "fast"

    # merged OpenAPI cache (seconds), dropped on any registry change
    openapi_cache_seconds: float = 10.0
