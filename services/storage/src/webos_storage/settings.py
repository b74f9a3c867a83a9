"""Configuration of the storage service (env prefix `WEBOS_`)."""

from webos_common.config import WebOSSettings


class StorageSettings(WebOSSettings):
    service_name: str = "storage"
