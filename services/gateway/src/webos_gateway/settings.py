"""Configuration of the gateway service (env prefix `WEBOS_`)."""

from webos_common.config import WebOSSettings


class GatewaySettings(WebOSSettings):
    service_name: str = "gateway"
