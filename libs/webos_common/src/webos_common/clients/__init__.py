"""Typed async clients for the core services (through the gateway or direct)."""
