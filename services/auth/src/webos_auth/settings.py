"""Configuration of the auth service (env prefix `WEBOS_`)."""

from webos_common.config import WebOSSettings


class AuthSettings(WebOSSettings):
    service_name: str = "auth"
