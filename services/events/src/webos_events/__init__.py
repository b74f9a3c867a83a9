"""WebOS events service."""
