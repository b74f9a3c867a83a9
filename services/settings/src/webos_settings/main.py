"""The settings service's app factory."""

from fastapi import FastAPI

from webos_common.service import create_service_app
from webos_settings.settings import SettingsSettings


def create_app(settings: SettingsSettings | None = None) -> FastAPI:
    settings = settings or SettingsSettings()
    return create_service_app("settings", settings=settings, use_mongo=True)
