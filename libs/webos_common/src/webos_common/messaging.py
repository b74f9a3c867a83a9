"""A NATS connection that keeps trying: at start until a deadline, then
reconnecting for ever once connected."""

from __future__ import annotations

import asyncio
import time

import nats
from loguru import logger
from nats.aio.client import Client as NATS


async def connect_nats(url: str, *, name: str, deadline: float = 30.0) -> NATS:
    """Connect to NATS, retrying for up to `deadline` seconds."""

    async def _disconnected() -> None:
        logger.warning("NATS disconnected ({})", name)

    async def _reconnected() -> None:
        logger.info("NATS reconnected ({})", name)

    async def _error(exc: Exception) -> None:
        logger.debug("NATS error ({}): {}", name, exc)

    give_up = time.monotonic() + deadline
    while True:
        try:
            return await nats.connect(
                servers=[url], name=name, connect_timeout=2, allow_reconnect=True,
                max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                disconnected_cb=_disconnected, reconnected_cb=_reconnected, error_cb=_error,
            )
        except Exception as exc:
            if time.monotonic() > give_up:
                raise ConnectionError(f"NATS at {url} not reachable within {deadline:.0f}s: {exc}") from exc
            await asyncio.sleep(0.3)
