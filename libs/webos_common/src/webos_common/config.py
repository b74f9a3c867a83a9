"""Configuration: one pydantic-settings base, env prefix `WEBOS_`.

Secrets are `SecretStr` fields; outside development and test a secret
left at a placeholder value refuses to load, so a forgotten `.env` fails
the start instead of running with `changeme`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "change_me", "secret", "password", "admin", "placeholder", "dev", "xxx"}
)

Environment = Literal["development", "test", "production"]


class WebOSSettings(BaseSettings):
    """Settings every WebOS process shares; services subclass it."""

    model_config = SettingsConfigDict(env_prefix="WEBOS_", env_file=".env", extra="ignore")

    env: Environment = "development"
    service_name: str = "webos"
    host: str = "127.0.0.1"
    port: int = 8700
    health_port: int | None = None  # a process without an HTTP API (the task worker): its probes' port
    public_url: str | None = None
    # Addresses (or CIDR ranges) of the proxies whose X-Forwarded-For/-Proto are believed; the
    # client address (rate limits, sign-in throttles, logs) is the nearest one not in this list.
    # Default: this machine (the embedded `webos up`, where the gateway is local); `[]` trusts none.
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]

    mongo_url: str = "mongodb://127.0.0.1:8720/?replicaSet=rs0&directConnection=true"
    mongo_db: str = "webos"
    nats_url: str = "nats://127.0.0.1:8721"
    # This process's one credential (an nkey seed file, mode 0600; see security/principals.py):
    # it authenticates to NATS and, as a signed client assertion, to auth for service tokens.
    credential_file: str | None = None
    principal: str | None = None  # the name the credential is registered under; default: service_name
    # the CA that signed the NATS server's certificate: with it, NATS connections use TLS and verify it
    nats_ca_file: str | None = None

    # the module registry's NATS KV bucket (module_registry.py), the same name in every process
    registry_bucket: str = "webos_modules"
    # how long auth's refresh tokens live (seconds); shared, since provisioning keeps the shell's
    # sessions in their bucket exactly as long (`infra.provision.shell_sessions_bucket`)
    refresh_token_ttl: int = 30 * 24 * 3600

    gateway_url: str = "http://127.0.0.1:8700"
    auth_url: str = "http://127.0.0.1:8701"
    storage_url: str = "http://127.0.0.1:8702"
    settings_url: str = "http://127.0.0.1:8703"
    events_url: str = "http://127.0.0.1:8704"
    shell_url: str = "http://127.0.0.1:8705"

    # `iss` of every token auth signs and every verifier expects. Default: auth's public address
    # (`<public_url>/api/auth`, where its OpenID discovery answers, as OIDC requires of an issuer),
    # or "webos" for a process that knows no public address (in-process tests).
    jwt_issuer: str | None = None
    jwt_audience: str = "webos"
    jwks_url: str | None = None  # default: <auth_url>/.well-known/jwks.json

    # Failing fast: each dependency (MongoDB, NATS, S3) must answer within `startup_deadline`
    # seconds at start or the process exits non-zero naming it; an outage afterwards answers 503
    # once MongoDB stayed unselectable for `mongo_timeout` seconds; background tasks get
    # `shutdown_deadline` seconds to stop.
    startup_deadline: float = 20.0
    # Auth's JWKS is awaited in the background: readiness fails naming it until it answered once
    # (None: yes, except with env=test, whose in-process apps use a test issuer's keys).
    await_jwks: bool | None = None
    mongo_timeout: float = 1.0
    shutdown_deadline: float = 5.0

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    state_dir: str = ".webos"

    @property
    def issuer(self) -> str:
        if self.jwt_issuer:
            return self.jwt_issuer
        return f"{self.public_url.rstrip('/')}/api/auth" if self.public_url else "webos"

    @property
    def effective_jwks_url(self) -> str:
        return self.jwks_url or f"{self.auth_url.rstrip('/')}/.well-known/jwks.json"

    @property
    def awaits_jwks(self) -> bool:
        return self.await_jwks if self.await_jwks is not None else self.env != "test"

    @property
    def may_provision(self) -> bool:
        """Without its own (least-privilege) credential a process connects as an operator or the
        test user and may create the streams and buckets it uses; with one it only waits for them."""
        return self.credential_file is None

    @property
    def principal_name(self) -> str:
        return self.principal or self.service_name

    @property
    def is_development(self) -> bool:
        return self.env in ("development", "test")

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> WebOSSettings:
        if self.is_development:
            return self
        bad = [
            name
            for name, value in self
            if isinstance(value, SecretStr) and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        ]
        if bad:
            names = ", ".join(f"WEBOS_{n.upper()}" for n in bad)
            raise ValueError(f"placeholder secret(s) not allowed in {self.env}: {names}")
        return self
