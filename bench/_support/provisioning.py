"""NATS provisioned as `webos up` does it: every stream and bucket the services wait for
(a service's credential may only use them, so a bench that starts one provisions first)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats

from webos_common.infra import MongoServer, NatsServer
from webos_common.infra.provision import provision
from webos_common.modules.registry import BUCKET as REGISTRY_BUCKET
from webos_common.security.credentials import CredentialStore


async def provision_nats(url: str, *, registry_bucket: str = REGISTRY_BUCKET) -> None:
    nc = await nats.connect(url)
    try:
        await provision(nc.jetstream(), registry_bucket=registry_bucket)
    finally:
        await nc.close()


NATS_USER = "webos-bench"


@contextmanager
def module_backing(root: Path, mongo: MongoServer, *, mongo_timeout: float = 30.0) -> Iterator[str]:
    """What a module host run inside the bench's own process needs: `mongo` started, a NATS of
    its own with credentials (a bench user beside them), provisioned as `webos up` does, and the
    environment the host reads (test mode, no scheduler, no views). Yields the NATS URL; stops both."""
    password = secrets.token_urlsafe(24)
    store = CredentialStore(root / "nats-auth", extra_users=[{"user": NATS_USER, "password": password}])
    store.render()
    server = NatsServer(root / "nats", log_path=root / "nats.log", die_with_parent=True, auth_dir=store.directory)
    mongo.start(timeout=mongo_timeout)  # a kept data folder of a million rows takes longer
    server.start()
    try:
        nats_url = server.url.replace("nats://", f"nats://{NATS_USER}:{password}@", 1)
        asyncio.run(provision_nats(nats_url))
        os.environ.update({"WEBOS_ENV": "test", "WEBOS_MONGO_URL": mongo.url, "WEBOS_MONGO_DB": "bench",
                           "WEBOS_NATS_URL": nats_url, "WEBOS_STATE_DIR": str(root / "state"),
                           "WEBOS_SCHEDULER": "false", "WEBOS_MODULE_UI": "false", "WEBOS_LOG_LEVEL": "WARNING"})
        yield nats_url
    finally:
        server.stop()
        mongo.stop()
