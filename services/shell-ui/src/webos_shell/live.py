"""Live push inside the shell: one core-NATS subscription per process to
the notification, task and record events (the same subjects and routing as the
events service's push: `webos_common.bus.live`), handed to the open pages
of the person they belong to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from loguru import logger

from webos_common.bus.live import LiveRouter
from webos_common.identity import User

Listener = Callable[[dict[str, Any]], Any]


class LiveFeed(LiveRouter):
    """Each person's open pages, a listener each; a page that listens as a `User` (not an id)
    also hears which modules' records it may read changed (`module:changed`)."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners: dict[str, set[Listener]] = defaultdict(set)
        self._people: dict[str, User] = {}

    def listen(self, who: User | str, listener: Listener) -> Callable[[], None]:
        user_id = who if isinstance(who, str) else who.id
        self.listeners[user_id].add(listener)
        if isinstance(who, User):
            self._people[user_id] = who  # the newest page's word: roles granted since count

        def forget() -> None:
            left = self.listeners.get(user_id, set())
            left.discard(listener)
            if not left:
                self.listeners.pop(user_id, None)
                self._people.pop(user_id, None)

        return forget

    def people(self) -> Iterable[User]:
        return self._people.values()

    async def deliver(self, user_id: str, message: dict[str, Any]) -> None:
        for listener in list(self.listeners.get(user_id, ())):
            try:
                result = listener(message)
                if hasattr(result, "__await__"):
                    await result
            except Exception:  # noqa: BLE001 - one closed page must not stop the others
                logger.exception("live listener failed")
