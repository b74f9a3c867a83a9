"""The bus's streams, created or updated idempotently."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from webos_common.bus.settings import BusSettings
from webos_common.bus.topics import DLQ_PREFIX, EVENTS_PREFIX


def events_stream_config(cfg: BusSettings) -> StreamConfig:
    return StreamConfig(
        name=cfg.stream,
        subjects=[f"{EVENTS_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType(cfg.storage),
        num_replicas=cfg.replicas,
        max_age=cfg.max_age,
        duplicate_window=cfg.duplicate_window,
        discard=DiscardPolicy.OLD,
    )


def dlq_stream_config(cfg: BusSettings) -> StreamConfig:
    return StreamConfig(
        name=cfg.dlq_stream,
        subjects=[f"{DLQ_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType(cfg.storage),
        num_replicas=cfg.replicas,
        max_age=cfg.dlq_max_age,
        duplicate_window=cfg.duplicate_window,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or update it when its configuration changed."""
    assert config.name is not None
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
            return
        except BadRequestError:  # a concurrent starter created it first
            info = await js.stream_info(config.name)
    current = info.config
    wanted = (config.subjects, config.max_age, config.duplicate_window, config.num_replicas)
    if (current.subjects, current.max_age, current.duplicate_window, current.num_replicas) != wanted:
        await js.update_stream(config)


async def ensure_streams(js: JetStreamContext, cfg: BusSettings) -> None:
    await ensure_stream(js, events_stream_config(cfg))
    await ensure_stream(js, dlq_stream_config(cfg))
