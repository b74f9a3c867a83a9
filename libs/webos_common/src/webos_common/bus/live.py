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

They also listen to every module's record events (`<entity>:created`, `:updated`, … as
`BaseService` emits them) and tell each person who has something open there, and may read
the record (`documents.sharing.may_see`, the rule a record's history uses), that the module
changed: `{"type": "module:changed", "data": {"module": …}}`, nothing of the record itself,
at most once per `pieces_every` seconds per person and module (a bulk edit or an import
of 500 rows is one or two signals, not 500). The shell reloads that module's pieces on the
person's pages (a sidebar count, a dashboard widget) when one comes. A `bulk_updated`
event names ids, not the records' owners and shares: it goes to the person who made it
(every tab of theirs) and to admins; others see it when they next draw a page.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.identity import HEADER, BusIdentity, IdentityRefused
from webos_common.bus.topics import event_subject, source_of, topic_filter
from webos_common.bus.wire import envelope_of
from webos_common.documents.sharing import RECORD_ACTIONS, may_see
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User
from webos_common.security.nats_permissions import KERNEL_SERVICES, TASK_TOPICS

# only the background-task topics: `task:>` also matched every record event of the tasks module, of everyone
SUBJECTS = (event_subject("notification:created", "events"), *(topic_filter(t) for t in TASK_TOPICS))
RECORD_SUBJECTS = tuple(topic_filter(f"*:{action}") for action in RECORD_ACTIONS)  # any module's records
CHANGED = "module:changed"
PIECES_EVERY = 1.0  # seconds: at most one "module changed" per person and module in this long
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


def changed_module(subject: str, data: bytes, headers: Mapping[str, str] | None,
                   ) -> tuple[str, str, EventEnvelope] | None:
    """(module, action, envelope) of a module's record event, the module being its proven publisher
    (the subject names it), or None (malformed, a kernel service's, or an envelope claiming another
    source: a replayed dead letter is old news)."""
    module = source_of(subject)
    try:
        envelope = envelope_of(headers, data)
    except ValidationFailed:
        return None
    action = envelope.topic.rpartition(":")[2]
    if module is None or module in KERNEL_SERVICES or envelope.source != module or action not in RECORD_ACTIONS:
        return None  # a kernel service's events (`notification:created`, `user:created`) are no module's
    return module, action, envelope


def concerns(user: User, module: str, action: str, payload: dict[str, Any], actor: str | None) -> bool:
    """Whether a record event of `module` may be signalled to `user`: only when they may read the
    record; a bulk update (ids only) to its author and admins."""
    if action == "bulk_updated":
        return user.is_admin or (actor is not None and user.id == actor)
    return may_see(user, module, payload)


class LiveRouter:
    """One core-NATS subscription per process (every replica: not a shared consumer) to the
    live subjects; each message whose person is proven goes to `deliver` (a subclass's sockets
    or pages of that person)."""

    def __init__(self, pieces_every: float = PIECES_EVERY) -> None:
        self._subs: list[Subscription] = []
        self.identity = BusIdentity.unchecked()
        self.pieces_every = pieces_every
        self._quiet: dict[tuple[str, str], bool] = {}  # (person, module) signalled lately → another came since
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._later: set[asyncio.Task[None]] = set()

    async def start(self, nc: NATS, identity: BusIdentity | None = None) -> None:
        """`identity` proves whom a task event is for (the process's bus identity)."""
        self.identity = identity or BusIdentity.unchecked()
        for subject in SUBJECTS:
            self._subs.append(await nc.subscribe(subject, cb=self._received))
        for subject in RECORD_SUBJECTS:
            self._subs.append(await nc.subscribe(subject, cb=self._record_changed))

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._quiet.clear()
        for task in list(self._later):
            task.cancel()

    async def _received(self, msg: Msg) -> None:
        found = await recipient(msg.subject, msg.data, msg.headers, self.identity)
        if found is not None:
            await self.deliver(*found)

    async def _record_changed(self, msg: Msg) -> None:
        people = list(self.people())
        if not people:  # nobody has a page open here: not even decoded (every write of every module comes by)
            return
        found = changed_module(msg.subject, msg.data, msg.headers)
        if found is None:
            return
        module, action, envelope = found
        actor = str(envelope.user_id) if envelope.user_id else None
        for user in people:
            if concerns(user, module, action, envelope.payload, actor):
                await self._signal(user.id, module)

    async def _signal(self, user_id: str, module: str) -> None:
        """Tell `user_id` that `module` changed, now unless told within `pieces_every` seconds;
        then once more when that time is up (what changed since is not lost)."""
        key = (user_id, module)
        if key in self._quiet:
            self._quiet[key] = True
            return
        if self.pieces_every > 0:
            self._quiet[key] = False
            self._timers[key] = asyncio.get_running_loop().call_later(self.pieces_every, self._reopen, key)
        await self.deliver(user_id, {"type": CHANGED, "data": {"module": module}})

    def _reopen(self, key: tuple[str, str]) -> None:
        self._timers.pop(key, None)
        if self._quiet.pop(key, False):
            task = asyncio.get_running_loop().create_task(self._signal(*key))
            self._later.add(task)
            task.add_done_callback(self._later.discard)

    def people(self) -> Iterable[User]:
        """Who has something open here now (a page, a socket): whom a record event may concern."""
        return ()

    async def deliver(self, user_id: str, message: dict[str, Any]) -> None:
        raise NotImplementedError
