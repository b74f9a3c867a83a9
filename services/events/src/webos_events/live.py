"""Live push: each replica listens (core NATS, not a shared consumer) to
notifications and task events and forwards them to the sockets of the
user they belong to."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.bus.topics import event_subject, topic_filter
from webos_common.security.nats_permissions import TASK_TOPICS

# notifications come only from the events service (the subject names the publisher); task events from
# whoever runs or queues tasks
# (only the background-task topics: `task:>` also matched every record event of the tasks module, of everyone)
SUBJECTS = (event_subject("notification:created", "events"), *(topic_filter(t) for t in TASK_TOPICS))
QUEUE_SIZE = 1000


class LiveHub:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._subs: list[Subscription] = []

    async def start(self, nc: NATS) -> None:
        for subject in SUBJECTS:
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
        try:
            envelope = json.loads(msg.data)
            payload = envelope.get("payload") or {}
            topic = envelope["topic"]
        except (ValueError, KeyError, TypeError):
            return
        user_id = payload.get("user_id") if topic.startswith("notification:") else (
            payload.get("user_id") or envelope.get("user_id"))
        if not user_id:
            return
        self.publish(user_id, {"type": topic, "id": envelope.get("id"), "data": payload})

    def publish(self, user_id: str, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(user_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                logger.warning("live push queue of {} full; dropping a message", user_id)
