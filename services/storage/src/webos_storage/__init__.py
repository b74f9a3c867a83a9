"""WebOS storage service."""
