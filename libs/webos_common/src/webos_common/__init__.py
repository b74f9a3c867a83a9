"""webos_common: what every WebOS service and module shares, and nothing service-specific."""

__version__ = "0.1.0"
