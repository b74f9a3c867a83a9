"""Live push: each replica listens (core NATS, not a shared consumer) to
notifications and task events and forwards them to the sockets of the
user they belong to (`webos_common.bus.live` says who that is, proven)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from loguru import logger

from webos_common.bus.live import LiveRouter

QUEUE_SIZE = 1000


class LiveHub(LiveRouter):
    """Each person's open sockets, a queue each."""

    def __init__(self) -> None:
        super().__init__()
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

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

    async def deliver(self, user_id: str, message: dict[str, Any]) -> None:
        self.publish(user_id, message)

    def publish(self, user_id: str, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(user_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                logger.warning("live push queue of {} full; dropping a message", user_id)
