"""WebOS gateway service."""
