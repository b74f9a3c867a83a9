"""Live push inside the shell: core-NATS subscriptions to the notification
and background-task events (the same subjects the events service's push
uses), held only while a signed-in person has a page open, and handed to
the open pages of the person they belong to."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Callable
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
Listener = Callable[[dict[str, Any]], Any]


def message_of(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """(user id, {"type", "id", "data"}) of an event envelope on the wire, or None."""
    try:
        envelope = json.loads(data)
        payload = envelope.get("payload") or {}
        topic = str(envelope["topic"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    user_id = payload.get("user_id") or (None if topic.startswith("notification:") else envelope.get("user_id"))
    if not user_id:
        return None
    return str(user_id), {"type": topic, "id": envelope.get("id"), "data": payload}


class LiveFeed:
    def __init__(self) -> None:
        self.listeners: dict[str, set[Listener]] = defaultdict(set)
        self._subs: list[Subscription] = []
        self._nc: NATS | None = None
        self._changing: asyncio.Task[None] | None = None

    async def start(self, nc: NATS) -> None:
        self._nc = nc
        if self.listeners:
            await self._subscribe()

    async def stop(self) -> None:
        self._nc = None
        await self._unsubscribe()

    @property
    def subscribed(self) -> bool:
        return bool(self._subs)

    async def _subscribe(self) -> None:
        if self._nc is not None and not self._subs:
            for subject in SUBJECTS:
                self._subs.append(await self._nc.subscribe(subject, cb=self._received))

    async def _unsubscribe(self) -> None:
        subs, self._subs = self._subs, []
        for sub in subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def _follow(self) -> None:
        """Subscribe when the first person listens, unsubscribe when the last one leaves."""
        async def change() -> None:
            await (self._subscribe() if any(self.listeners.values()) else self._unsubscribe())

        previous = self._changing

        async def after() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await change()

        with contextlib.suppress(RuntimeError):  # no running loop: start() subscribes
            self._changing = asyncio.get_running_loop().create_task(after())

    def listen(self, user_id: str, listener: Listener) -> Callable[[], None]:
        self.listeners[user_id].add(listener)
        if not self._subs:
            self._follow()

        def forget() -> None:
            listeners = self.listeners.get(user_id, set())
            listeners.discard(listener)
            if not listeners:
                self.listeners.pop(user_id, None)
            if not self.listeners:
                self._follow()

        return forget

    async def _received(self, msg: Msg) -> None:
        found = message_of(msg.data)
        if found is None:
            return
        user_id, message = found
        for listener in list(self.listeners.get(user_id, ())):
            try:
                result = listener(message)
                if hasattr(result, "__await__"):
                    await result
            except Exception:  # noqa: BLE001 - one closed page must not stop the others
                logger.exception("live listener failed")
