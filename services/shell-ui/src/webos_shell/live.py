"""Live push inside the shell: one core-NATS subscription per process to
the notification and task events (the same subjects and routing as the
events service's push: `webos_common.bus.live`), handed to the open pages
of the person they belong to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from loguru import logger

from webos_common.bus.live import LiveRouter

Listener = Callable[[dict[str, Any]], Any]


class LiveFeed(LiveRouter):
    """Each person's open pages, a listener each."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners: dict[str, set[Listener]] = defaultdict(set)

    def listen(self, user_id: str, listener: Listener) -> Callable[[], None]:
        self.listeners[user_id].add(listener)

        def forget() -> None:
            self.listeners.get(user_id, set()).discard(listener)

        return forget

    async def deliver(self, user_id: str, message: dict[str, Any]) -> None:
        for listener in list(self.listeners.get(user_id, ())):
            try:
                result = listener(message)
                if hasattr(result, "__await__"):
                    await result
            except Exception:  # noqa: BLE001 - one closed page must not stop the others
                logger.exception("live listener failed")
