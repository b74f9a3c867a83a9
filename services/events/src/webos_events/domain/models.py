"""What the events service's API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from webos_common.bus.notify import Notification, StoredNotification
from webos_common.documents.ports import Page as Page  # the one list shape, re-exported for the routes

# one model for the bus, the API and `webos_common.bus.notify.Messenger`; and its stored form
NotificationIn = Notification
NotificationRead = StoredNotification


class UnreadCount(BaseModel):
    unread: int


class EventRead(BaseModel):
    id: str
    topic: str
    source: str
    user_id: str | None = None
    trace_id: str | None = None
    timestamp: datetime
    payload: dict[str, Any]


DeadLetterStatus = Literal["pending", "replayed", "discarded"]


class DeadLetterRead(BaseModel):
    id: str
    service: str
    consumer: str
    subject: str
    topic: str | None = None
    reason: str
    error: str
    attempts: int
    envelope: dict[str, Any] | None = None
    raw: str | None = None
    failed_at: datetime
    status: DeadLetterStatus = "pending"
    handled_at: datetime | None = None
    handled_by: str | None = None


class ReplayResult(BaseModel):
    replayed: int
