"""What the events service's API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from webos_common.notify import Notification

T = TypeVar("T")



class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    skip: int
    limit: int
    has_more: bool


NotificationIn = Notification  # one model for the bus, the API and `webos_common.notify.Messenger`


class NotificationRead(NotificationIn):
    model_config = ConfigDict(extra="ignore")

    id: str
    read: bool = False
    read_at: datetime | None = None
    created_at: datetime


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
