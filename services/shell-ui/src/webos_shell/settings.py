"""Configuration of the shell UI (env prefix `WEBOS_`)."""

from pydantic import SecretStr

from webos_common.config import WebOSSettings


class ShellSettings(WebOSSettings):
    service_name: str = "shell-ui"
    shell_storage_secret: SecretStr = SecretStr("changeme")
    # Seals people's sessions in the shared bucket (`webos_shell.sessions`); unset: the storage secret.
    shell_session_key: SecretStr | None = None
    # The SSO button shows when auth's `/api/auth/sso/config` says enabled; this names it regardless.
    shell_sso_name: str | None = None
    # Seconds between reads of the unread count (toasts themselves come live over NATS).
    shell_poll_interval: float = 15.0
    shell_api_timeout: float = 10.0
