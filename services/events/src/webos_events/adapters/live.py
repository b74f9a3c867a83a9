"""Live push: each replica listens (core NATS, not a shared consumer) to
notifications and task events and forwards them to the sockets of the
user they belong to (`webos_common.bus.live` says who that is, proven)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.bus import live
from webos_common.bus.identity import BusIdentity

QUEUE_SIZE = 1000


class LiveHub:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._subs: list[Subscription] = []
        self.identity = BusIdentity.unchecked()

    async def start(self, nc: NATS, identity: BusIdentity | None = None) -> None:
        """`identity` proves whom a task event is for (the process's bus identity)."""
        self.identity = identity or BusIdentity.unchecked()
        for subject in live.SUBJECTS:
            self._subs.append(await nc.subscribe(subject, cb=self._on_message))

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()

    def connect(self, user_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues[user_id].add(queue)
        return queue

    def disconnect(self, user_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues[user_id].discard(queue)
        if not self._queues[user_id]:
            del self._queues[user_id]

    def connected(self, user_id: str) -> int:
        return len(self._queues.get(user_id, ()))

    async def _on_message(self, msg: Msg) -> None:
        found = await live.recipient(msg.subject, msg.data, msg.headers, self.identity)
        if found is not None:
            self.publish(*found)

    def publish(self, user_id: str, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(user_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                logger.warning("live push queue of {} full; dropping a message", user_id)
