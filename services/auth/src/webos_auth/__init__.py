"""WebOS auth service."""
