"""Configuration of the settings service (env prefix `WEBOS_`)."""

from webos_common.config import WebOSSettings


class SettingsSettings(WebOSSettings):
    service_name: str = "settings"
