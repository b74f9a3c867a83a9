"""HTTP and WebSocket routes of the events service."""
