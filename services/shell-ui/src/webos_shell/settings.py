"""Configuration of the shell UI (env prefix `WEBOS_`)."""

from pydantic import SecretStr

from webos_common.config import WebOSSettings


class ShellSettings(WebOSSettings):
    service_name: str = "shell-ui"
    shell_storage_secret: SecretStr = SecretStr("changeme")
