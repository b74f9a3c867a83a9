"""WebOS settings service."""
