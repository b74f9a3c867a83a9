"""Live push inside the shell: one core-NATS subscription per process to
the notification and task events (the same subjects and routing as the
events service's push: `webos_common.bus.live`), handed to the open pages
of the person they belong to."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.bus import live
from webos_common.bus.identity import BusIdentity

Listener = Callable[[dict[str, Any]], Any]


class LiveFeed:
    def __init__(self) -> None:
        self.listeners: dict[str, set[Listener]] = defaultdict(set)
        self._subs: list[Subscription] = []
        self.identity = BusIdentity.unchecked()

    async def start(self, nc: NATS, identity: BusIdentity | None = None) -> None:
        """`identity` proves whom a task event is for (the process's bus identity)."""
        self.identity = identity or BusIdentity.unchecked()
        for subject in live.SUBJECTS:
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
        found = await live.recipient(msg.subject, msg.data, msg.headers, self.identity)
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
