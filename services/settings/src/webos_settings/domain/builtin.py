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


class StorageSource(BaseModel):
    """One source the storage service serves (its `SourceConfig`): the credentials are
    secrets, kept encrypted and shown masked to everyone but the storage service. Never the
    storage host's own disk (`local`): that only the operator's configuration mounts, or an
    admin in the browser could read the processes' credentials off it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: Literal["s3", "ftp", "ftps", "sftp", "smb", "webdav", "gdrive"]
    root: str | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    share: str | None = None
    endpoint_url: str | None = None
    bucket: str | None = None
    prefix: str = ""
    region: str = "us-east-1"
    username: str | None = None
    password: SecretStr | None = None
    private_key: SecretStr | None = None
    known_hosts: str | None = None
    token_uri: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    ca_file: str | None = None
    read_only: bool = False
    timeout: float = Field(default=15.0, gt=0, le=300)
    retry_seconds: float = Field(default=5.0, ge=0, le=3600)
    read_permission: str | None = None
    write_permission: str | None = None
    default_access: Literal["none", "read", "write", "full"] = "full"  # where no folder ACL applies


class StorageSettings(BaseModel):
    """Data sources the storage service mounts (beside those of its own configuration)."""

    default_backend: str = "local"
    backends: list[StorageBackend] = Field(default_factory=list)
    sources: list[StorageSource] = Field(default_factory=list)


class ApiKeysSettings(BaseModel):
    """Keys for external services, by name; every value is a secret."""

    keys: dict[str, SecretStr] = Field(default_factory=dict)


class NotificationPreferences(BaseModel):
    email_enabled: bool = True
    push_enabled: bool = False
    digest_frequency: Literal["never", "daily", "weekly"] = "daily"


class ShellBranding(BaseModel):
    """The shell's look for everyone (module layer of `shell`)."""

    brand_name: str = Field("WebOS", max_length=40)
    primary_color: str = Field("#4f46e5", pattern=r"^#[0-9a-fA-F]{6}$")
    secondary_color: str = Field("#0ea5e9", pattern=r"^#[0-9a-fA-F]{6}$")
    accent_color: str = Field("#f59e0b", pattern=r"^#[0-9a-fA-F]{6}$")
    dark_mode: bool | None = None  # None: follow the browser


class ShellPreferences(BaseModel):
    """One person's shell preferences (user layer of `shell`)."""

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

# Core "modules": {schema, user_schema}. Without a user schema, a user's values lie over the module's
# (the organisation's notification defaults, each person's overrides).
CORE_MODULES: dict[str, dict[str, Any]] = {
    "notifications": {"schema": _schema(NotificationPreferences), "user_schema": None},
    "shell": {"schema": _schema(ShellBranding), "user_schema": _schema(ShellPreferences)},
}
