"""The auth service's app factory."""

from fastapi import FastAPI

from webos_auth.settings import AuthSettings
from webos_common.service import create_service_app


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    return create_service_app("auth", settings=settings, use_mongo=True)
