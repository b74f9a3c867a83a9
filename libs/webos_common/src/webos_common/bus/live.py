"""Live push: which person a notification or task event on the wire is for.

The events service's WebSocket push and the shell's live feed both listen
(core NATS, every replica) to the same two kinds of event and route each to
one person's open pages. Who that person is must be proven, not claimed:

* a notification comes only from the events service (the subject names
  the publisher, and only events may publish it): its `payload.user_id`;
* a task event may come from any process that queues or runs tasks, so it
  goes to the person its identity token proves (`webos.bus.identity`), and
  only when the payload names nobody else. Where identity is not required
  (processes without a credential: tests, tools) the envelope's word is
  taken as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.bus.identity import HEADER, BusIdentity, IdentityRefused
from webos_common.bus.topics import event_subject, source_of, topic_filter
from webos_common.bus.wire import envelope_of
from webos_common.http.errors import ValidationFailed
from webos_common.security.nats_permissions import TASK_TOPICS

# only the background-task topics: `task:>` also matched every record event of the tasks module, of everyone
SUBJECTS = (event_subject("notification:created", "events"), *(topic_filter(t) for t in TASK_TOPICS))
Message = dict[str, Any]


async def recipient(subject: str, data: bytes, headers: Mapping[str, str] | None,
                    identity: BusIdentity) -> tuple[str, Message] | None:
    """(user id, {"type", "id", "data"}) for a live-pushed event, or None when it is for nobody
    provable (dropped; a refused identity is logged as a security line)."""
    try:
        envelope = envelope_of(headers, data)
    except ValidationFailed:
        return None
    payload, topic = envelope.payload, envelope.topic
    message = {"type": topic, "id": envelope.id, "data": payload}
    if topic.startswith("notification:"):
        user_id = payload.get("user_id")
        return (str(user_id), message) if user_id else None
    user_id = envelope.user_id
    if not identity.required:
        user_id = payload.get("user_id") or user_id
        return (str(user_id), message) if user_id else None
    if not user_id or payload.get("user_id") not in (None, user_id):
        return None
    publisher = source_of(subject)
    if publisher is None:
        return None
    sent_at = envelope.timestamp.timestamp()
    try:
        await identity.verify(str(user_id), (headers or {}).get(HEADER), publisher, sent_at)
    except IdentityRefused as exc:
        logger.warning("security: live push refused {} {} from {}: {}", topic, envelope.id, subject, exc)
        return None
    return str(user_id), message


class LiveRouter:
    """One core-NATS subscription per process (every replica: not a shared consumer) to the
    live subjects; each message whose person is proven goes to `deliver` (a subclass's sockets
    or pages of that person)."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self.identity = BusIdentity.unchecked()

    async def start(self, nc: NATS, identity: BusIdentity | None = None) -> None:
        """`identity` proves whom a task event is for (the process's bus identity)."""
        self.identity = identity or BusIdentity.unchecked()
        for subject in SUBJECTS:
            self._subs.append(await nc.subscribe(subject, cb=self._received))

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()

    async def _received(self, msg: Msg) -> None:
        found = await recipient(msg.subject, msg.data, msg.headers, self.identity)
        if found is not None:
            await self.deliver(*found)

    async def deliver(self, user_id: str, message: dict[str, Any]) -> None:
        raise NotImplementedError
