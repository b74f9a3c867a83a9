"""The module host: one WebOS module, run as its own service."""

from webos_modulehost.app import create_app
from webos_modulehost.discovery import LoadedModule, load

__all__ = ["LoadedModule", "create_app", "load"]
