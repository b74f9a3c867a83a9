"""WebOS shell-ui service."""
