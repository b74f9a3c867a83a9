"""NATS provisioned as `webos up` does it: every stream and bucket the services wait for
(a service's credential may only use them, so a bench that starts one provisions first)."""

from __future__ import annotations

import nats

from webos_common.infra.provision import provision
from webos_common.modules.registry import BUCKET as REGISTRY_BUCKET


async def provision_nats(url: str, *, registry_bucket: str = REGISTRY_BUCKET) -> None:
    nc = await nats.connect(url)
    try:
        await provision(nc.jetstream(), registry_bucket=registry_bucket)
    finally:
        await nc.close()
