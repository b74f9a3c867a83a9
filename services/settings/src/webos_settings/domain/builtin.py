"""The schemas the core ships: system sections (seed 003 §3.6) and the
core's own user preferences (seed 004's notification preferences, the shell)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr


class SmtpSettings(BaseModel):
    """Outgoing mail."""

    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    use_tls: bool = True
    from_address: str = Field("webos@localhost", pattern=r"^[^@\s]+@[^@\s]+$")


class StorageBackend(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,40}$")
    kind: Literal["local", "s3"] = "local"
    root: str | None = None
    endpoint_url: str | None = None
    bucket: str | None = None
    access_key: str | None = None
    secret_key: SecretStr | None = None


class StorageSettings(BaseModel):
    """Data sources the storage service mounts."""

    default_backend: str = "local"
    backends: list[StorageBackend] = Field(default_factory=list)


class ApiKeysSettings(BaseModel):
    """Keys for external services, by name; every value is a secret."""

    keys: dict[str, SecretStr] = Field(default_factory=dict)


class NotificationPreferences(BaseModel):
    email_enabled: bool = True
    push_enabled: bool = False
    digest_frequency: Literal["never", "daily", "weekly"] = "daily"


class ShellPreferences(BaseModel):
    theme: Literal["light", "dark", "system"] = "system"
    language: str = "en"
    default_view: str | None = None


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


SYSTEM_SECTIONS: dict[str, dict[str, Any]] = {
    "smtp": _schema(SmtpSettings),
    "storage": _schema(StorageSettings),
    "api-keys": _schema(ApiKeysSettings),
}

CORE_MODULES: dict[str, dict[str, Any]] = {
    "notifications": _schema(NotificationPreferences),
    "shell": _schema(ShellPreferences),
}
