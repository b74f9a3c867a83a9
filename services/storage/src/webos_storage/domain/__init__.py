"""Plain Python: what a file, a mount, a trash item and a transfer job are."""
