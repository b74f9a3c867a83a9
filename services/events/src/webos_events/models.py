"""What the events service's API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

Level = Literal["info", "success", "warning", "error"]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    skip: int
    limit: int
    has_more: bool


class NotificationIn(BaseModel):
    """A notification to deliver (`notification:send` on the bus, or POST /notifications)."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=200)
    type: str = Field("general", min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    message: str = Field("", max_length=5000)
    level: Level = "info"
    link: str | None = Field(None, max_length=2000)
    metadata: dict[str, Any] = Field(default_factory=dict)


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
