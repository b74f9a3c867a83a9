"""Orders: a WebOS module."""

__version__ = "0.1.0"
