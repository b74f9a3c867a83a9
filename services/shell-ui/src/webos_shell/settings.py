"""Configuration of the shell UI (env prefix `WEBOS_`)."""

from pydantic import SecretStr

from webos_common.config import WebOSSettings


class ShellSettings(WebOSSettings):
    service_name: str = "shell-ui"
    shell_storage_secret: SecretStr = SecretStr("changeme")
    # Seals people's sessions in the shared bucket (`webos_shell.sessions`); unset: the storage secret.
    shell_session_key: SecretStr | None = None
    # Earlier session keys, comma-separated: sessions sealed under them still open (and are sealed
    # under the current key at their next write) — a rotation signs nobody out. Drop an old key
    # once the bucket's TTL (30 days) has passed since the rotation.
    shell_session_old_keys: SecretStr | None = None
    # The SSO button shows when auth's `/api/auth/sso/config` says enabled; this names it regardless.
    shell_sso_name: str | None = None
    # Seconds between reads of the unread count (toasts themselves come live over NATS).
    shell_poll_interval: float = 15.0
    shell_api_timeout: float = 10.0
