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

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loguru import logger

from webos_common.bus.identity import HEADER, BusIdentity, IdentityRefused
from webos_common.bus.topics import event_subject, source_of, topic_filter

SUBJECTS = (event_subject("notification:created", "events"), topic_filter("task:>"))
Message = dict[str, Any]


async def recipient(subject: str, data: bytes, headers: Mapping[str, str] | None,
                    identity: BusIdentity) -> tuple[str, Message] | None:
    """(user id, {"type", "id", "data"}) for a live-pushed event, or None when it is for nobody
    provable (dropped; a refused identity is logged as a security line)."""
    try:
        envelope = json.loads(data)
        payload = envelope.get("payload") or {}
        topic = str(envelope["topic"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    message = {"type": topic, "id": envelope.get("id"), "data": payload}
    if topic.startswith("notification:"):
        user_id = payload.get("user_id")
        return (str(user_id), message) if user_id else None
    user_id = envelope.get("user_id")
    if not identity.required:
        user_id = payload.get("user_id") or user_id
        return (str(user_id), message) if user_id else None
    if not user_id or payload.get("user_id") not in (None, user_id):
        return None
    publisher = source_of(subject)
    if publisher is None:
        return None
    try:
        sent_at = datetime.fromisoformat(str(envelope.get("timestamp"))).timestamp()
    except ValueError:
        sent_at = None
    try:
        await identity.verify(str(user_id), (headers or {}).get(HEADER), publisher, sent_at)
    except IdentityRefused as exc:
        logger.warning("security: live push refused {} {} from {}: {}", topic, envelope.get("id"), subject, exc)
        return None
    return str(user_id), message
