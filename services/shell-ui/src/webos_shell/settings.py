"""Configuration of the shell UI (env prefix `WEBOS_`)."""

from pydantic import SecretStr

from webos_common.config import WebOSSettings


class ShellSettings(WebOSSettings):
    service_name: str = "shell-ui"
    shell_storage_secret: SecretStr = SecretStr("changeme")
    # Shown as "Sign in with <name>" on the sign-in page when set (auth's `/api/auth/sso/login`).
    shell_sso_name: str | None = None
    shell_sso_path: str = "/api/auth/sso/login"
    # Seconds between polls of the notification count when the live push is unavailable.
    shell_poll_interval: float = 2.0
    shell_api_timeout: float = 10.0
