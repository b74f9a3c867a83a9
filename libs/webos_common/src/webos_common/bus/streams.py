"""The bus's streams, created or updated idempotently (by provisioning), and
the wait of a process that only uses them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from loguru import logger
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError
from nats.js.kv import KeyValue

from webos_common.bus.settings import BusSettings
from webos_common.bus.topics import DLQ_PREFIX, EVENTS_PREFIX


def events_stream_config(cfg: BusSettings) -> StreamConfig:
    return _kept_stream(cfg, cfg.stream, EVENTS_PREFIX, cfg.max_age)


def dlq_stream_config(cfg: BusSettings) -> StreamConfig:
    return _kept_stream(cfg, cfg.dlq_stream, DLQ_PREFIX, cfg.dlq_max_age)


def _kept_stream(cfg: BusSettings, name: str, prefix: str, max_age: float) -> StreamConfig:
    """A stream that keeps messages for `max_age` (LIMITS, the oldest dropped when full),
    deduplicated and replicated as `cfg` says."""
    return StreamConfig(name=name, subjects=[f"{prefix}.>"], retention=RetentionPolicy.LIMITS,
                        storage=StorageType(cfg.storage), num_replicas=cfg.replicas, max_age=max_age,
                        duplicate_window=cfg.duplicate_window, discard=DiscardPolicy.OLD)


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


T = TypeVar("T")


async def provisioned(lookup: Callable[[], Awaitable[T]], what: str, *, deadline: float = 30.0) -> T:
    """`lookup()` once the stream or bucket exists. A service may not create one (its credential
    allows only using it): while the deployment's provisioning has not run yet — `webos up`
    does it as NATS starts — or JetStream does not answer yet, wait, then fail naming what is missing."""
    give_up = time.monotonic() + deadline
    warned = False
    while True:
        try:
            return await lookup()
        except (NotFoundError, ServiceUnavailableError, NoRespondersError, NatsTimeoutError):
            # missing, or JetStream not answering yet (a new cluster electing its meta leader)
            if time.monotonic() > give_up:
                raise RuntimeError(f"JetStream {what} does not exist: provision it (`webos nats provision`)") from None
            if not warned:
                logger.warning("waiting for JetStream {} (created by `webos nats provision`)", what)
                warned = True
            await asyncio.sleep(0.2)


async def open_key_value(js: JetStreamContext, config: KeyValueConfig, *, create: bool) -> KeyValue:
    """The bucket; created when missing if `create` (provisioning, tests), else waited for."""
    assert config.bucket is not None
    if not create:
        return await provisioned(lambda: js.key_value(config.bucket or ""), f"bucket {config.bucket}")
    try:
        return await js.key_value(config.bucket)
    except NotFoundError:
        return await js.create_key_value(config)


async def wait_streams(js: JetStreamContext, cfg: BusSettings) -> None:
    """Wait until the bus's streams exist (see `provisioned`)."""
    for name in (cfg.stream, cfg.dlq_stream):
        await provisioned(lambda name=name: js.stream_info(name), f"stream {name}")  # type: ignore[misc]
