"""Create (or bring up to date) every JetStream stream and bucket WebOS uses.

Run once per deployment, before the services start, with the operator's
credential: `webos up` and the test fixtures call it; compose's
`nats-provision` service and the Helm chart's pre-install/pre-upgrade Job run
`python -m webos_common.infra.provision`. On a NATS older than 2.11 the module
registry's bucket (per-message TTL) cannot be made, and this fails. The services' own
credentials may only look these up and use them — none of them may create,
change or delete a stream.

Every stream and bucket is kept at `WEBOS_BUS_REPLICAS` copies (3 on a three-node
cluster, `webos up --cluster`): the buckets are made by their owners' code at one
copy, then raised with the streams (a bucket is a stream too).
"""

from __future__ import annotations

from dataclasses import replace

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError

from webos_common.bus.settings import BusSettings
from webos_common.bus.streams import ensure_stream, ensure_streams, open_key_value
from webos_common.config import WebOSSettings
from webos_common.modules.registry import ModuleRegistry
from webos_common.processes.schedule import DueTimes
from webos_common.security.nats_permissions import RATE_LIMIT_BUCKET, SHELL_SESSIONS_BUCKET
from webos_common.tasks.broker import RESULTS_BUCKET, stream_config
from webos_common.tasks.status import TaskStore

RATE_LIMIT_TTL = 86400  # counters outlive their window; a window longer than a day resets early
# A person's session lives as long as auth's refresh token (`WEBOS_REFRESH_TOKEN_TTL`, 30 days by
# default): every refresh rewrites it, so one unwritten for this long holds a refresh token that no
# longer works, and one dropped sooner signs out a person whose refresh token still works.
SHELL_SESSION_TTL = 30 * 86400


def rate_limit_bucket(bucket: str = RATE_LIMIT_BUCKET) -> KeyValueConfig:
    """The gateway replicas' shared rate limit counters (one key per counter and window)."""
    return KeyValueConfig(bucket=bucket, history=1, ttl=RATE_LIMIT_TTL)


def shell_sessions_bucket(bucket: str = SHELL_SESSIONS_BUCKET, ttl: float = SHELL_SESSION_TTL) -> KeyValueConfig:
    """The shell replicas' sessions (`app.storage.user`, sealed): one key per browser session."""
    return KeyValueConfig(bucket=bucket, history=1, ttl=ttl)


async def provision(js: JetStreamContext, *, bus: BusSettings | None = None,
                    registry_bucket: str | None = None, session_ttl: float | None = None) -> list[str]:
    """Ensure every stream and bucket; return their names. The registry's bucket: the one
    named by `WEBOS_REGISTRY_BUCKET` unless given; the shell sessions' lifetime: auth's refresh
    tokens' (`WEBOS_REFRESH_TOKEN_TTL`) unless given, also on a bucket made earlier."""
    bus = bus or BusSettings()
    shared = WebOSSettings()
    registry_bucket = registry_bucket or shared.registry_bucket
    session_ttl = session_ttl or shared.refresh_token_ttl
    await ensure_streams(js, bus)
    await ensure_stream(js, replace(stream_config(), num_replicas=bus.replicas))
    await ModuleRegistry(js, bucket=registry_bucket, create=True).open()
    await TaskStore(js).open()
    schedules = DueTimes(js)
    await schedules.open()
    await open_key_value(js, rate_limit_bucket(), create=True)
    await open_key_value(js, shell_sessions_bucket(ttl=session_ttl), create=True)
    await keep_max_age(js, f"KV_{SHELL_SESSIONS_BUCKET}", session_ttl)
    try:
        await js.object_store(RESULTS_BUCKET)
    except BucketNotFoundError:
        await js.create_object_store(RESULTS_BUCKET)
    buckets = [registry_bucket, "webos_tasks", schedules.bucket, RATE_LIMIT_BUCKET, SHELL_SESSIONS_BUCKET]
    await replicate(js, [f"KV_{b}" for b in buckets] + [f"OBJ_{RESULTS_BUCKET}"], bus.replicas)
    return [bus.stream, bus.dlq_stream, "WEBOS_TASKS", *buckets, RESULTS_BUCKET]


async def keep_max_age(js: JetStreamContext, stream: str, seconds: float) -> None:
    """A bucket made earlier follows a changed lifetime (its stream's `max_age`)."""
    config = (await js.stream_info(stream)).config
    if config.max_age != seconds:
        await js.update_stream(replace(config, max_age=seconds))


async def replicate(js: JetStreamContext, streams: list[str], replicas: int) -> None:
    """Each of `streams` (a bucket's stream: `KV_<bucket>`, `OBJ_<bucket>`) at `replicas` copies."""
    for name in streams:
        config = (await js.stream_info(name)).config
        if config.num_replicas != replicas:
            await js.update_stream(replace(config, num_replicas=replicas))


async def _main() -> None:
    """`python -m webos_common.infra.provision`: provision with this process's settings (the operator's
    credential in compose's `nats-provision` and the chart's pre-install Job)."""
    from webos_common.bus.connection import connect_nats
    from webos_common.config import WebOSSettings

    settings = WebOSSettings()
    nc = await connect_nats(settings.nats_url, name="webos-provision", credential_file=settings.credential_file,
                            principal=settings.principal_name, ca_file=settings.nats_ca_file)
    try:
        made = await provision(nc.jetstream())
    finally:
        await nc.close()
    print("provisioned: " + ", ".join(made))


if __name__ == "__main__":
    import asyncio

    asyncio.run(_main())
