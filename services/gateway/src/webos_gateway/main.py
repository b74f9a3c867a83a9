"""The gateway service's app factory."""

from fastapi import FastAPI

from webos_common.service import create_service_app
from webos_gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    return create_service_app("gateway", settings=settings, use_mongo=False)
