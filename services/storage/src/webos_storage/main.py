"""The storage service's app factory."""

from fastapi import FastAPI

from webos_common.service import create_service_app
from webos_storage.settings import StorageSettings


def create_app(settings: StorageSettings | None = None) -> FastAPI:
    settings = settings or StorageSettings()
    return create_service_app("storage", settings=settings, use_mongo=True)
