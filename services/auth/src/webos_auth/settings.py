"""Configuration of the auth service (env prefix `WEBOS_`, like the shared
settings: `WEBOS_ACCESS_TOKEN_TTL`, `WEBOS_ADMIN_PASSWORD`, …). Secrets are `SecretStr`: a placeholder value
refuses to load outside development and test."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from webos_common.config import WebOSSettings


class AuthSettings(WebOSSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_", env_file=".env", extra="ignore")

    service_name: str = "auth"

    # tokens
    access_token_ttl: int = 900  # refresh_token_ttl: shared (WebOSSettings), provisioning reads it too
    # seconds a just-used refresh token still works while its successor is unused (two tabs racing);
    # 0: any second use revokes the family
    refresh_reuse_grace: float = Field(10, ge=0, le=300)
    key_rotation_days: int = 30
    # seals private signing keys and TOTP secrets at rest (webos_common.security.keyring)
    key_encryption_secret: SecretStr = SecretStr("changeme")
    # earlier secrets, comma-separated: what was sealed under them still opens, and auth re-seals
    # them under the current one at start
    old_key_encryption_secrets: SecretStr | None = None
    cookie_secure: bool = False
    # service accounts: the principal registry (public keys; see webos_common.security.principals),
    # re-read when it changes. Unset: no process can get a service token.
    auth_principals_file: str | None = None

    # users
    registration: Literal["open", "invite", "closed"] = "open"
    admin_email: str = "admin@example.com"
    admin_username: str = "admin"
    admin_password: SecretStr = SecretStr("changeme")
    password_min_length: int = 10
    verify_token_ttl: int = 48 * 3600
    reset_token_ttl: int = 3600
    invite_token_ttl: int = 7 * 24 * 3600

    # argon2id (RFC 9106 "second recommended option": t=3, m=64 MiB, p=4)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4

    # abuse
    login_max_failures: int = 5          # per account, within the lockout window
    lockout_seconds: int = 900
    login_ip_max_failures: int = 30      # per client address, within the ip window
    login_ip_window: int = 300

    # mail
    mail_backend: Literal["outbox", "smtp"] = "outbox"
    mail_from: str = "WebOS <noreply@webos.local>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False

    # SSO (OpenID Connect); disabled while oidc_issuer is unset
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    oidc_roles_claim: str = "roles"
    oidc_default_roles: list[str] = ["user"]
    oidc_redirect_url: str | None = None  # default: <public_url or auth_url>/sso/callback
    oidc_provider_name: str = "oidc"

    def old_key_secrets(self) -> list[str]:
        raw = self.old_key_encryption_secrets.get_secret_value() if self.old_key_encryption_secrets else ""
        return [k.strip() for k in raw.split(",") if k.strip()]

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def base_url(self) -> str:
        return (self.public_url or self.auth_url).rstrip("/")

    @property
    def api_url(self) -> str:
        """Where auth's API answers from outside: under `/api/auth` at the gateway's public
        address, or auth's own address when no public one is set."""
        return f"{self.public_url.rstrip('/')}/api/auth" if self.public_url else self.auth_url.rstrip("/")
