"""Live push: each replica listens (core NATS, not a shared consumer) to
notifications, task events and modules' record events and forwards them to the
sockets of the person they belong to (`webos_common.bus.live` says who that is,
proven, and who may hear that a module's records changed)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from loguru import logger

from webos_common.bus.live import LiveRouter
from webos_common.identity import User

QUEUE_SIZE = 1000


class LiveHub(LiveRouter):
    """Each person's open sockets, a queue each (and who they are, as their newest socket's token said)."""

    def __init__(self) -> None:
        super().__init__()
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._people: dict[str, User] = {}

    def connect(self, user: User) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues[user.id].add(queue)
        self._people[user.id] = user
        return queue

    def disconnect(self, user_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues[user_id].discard(queue)
        if not self._queues[user_id]:
            del self._queues[user_id]
            self._people.pop(user_id, None)

    def people(self) -> Iterable[User]:
        return self._people.values()

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
