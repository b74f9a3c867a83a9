"""Test support: real mongod / nats-server / S3 fixtures (the pytest plugin
`webos_common.testing.plugin`, loaded automatically) and helpers to run an
app in-process or on a real port."""

from webos_common.testing.apps import lifespan_client, serve_app

__all__ = ["lifespan_client", "serve_app"]
