"""Live push inside the shell: one core-NATS subscription per process to
the notification and task events (the same subjects the events service's
push uses), handed to the open pages of the person they belong to."""

from __future__ import annotations

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

# notifications come only from the events service (the subject names the publisher); task events from
# whoever runs or queues tasks
SUBJECTS = (event_subject("notification:created", "events"), topic_filter("task:>"))
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

    async def start(self, nc: NATS) -> None:
        for subject in SUBJECTS:
            self._subs.append(await nc.subscribe(subject, cb=self._received))

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()

    def listen(self, user_id: str, listener: Listener) -> Callable[[], None]:
        self.listeners[user_id].add(listener)

        def forget() -> None:
            self.listeners.get(user_id, set()).discard(listener)

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
