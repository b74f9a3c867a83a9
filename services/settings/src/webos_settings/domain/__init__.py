"""Plain Python: scopes, secrets, schemas, diffs — no FastAPI, MongoDB or NATS."""
