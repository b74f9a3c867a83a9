"""Telling a person something: `notification:send`, from any service, module or task.

    messenger = Messenger(bus)                    # an EventBus, or a module's EventPublisher (outbox)
    await messenger.success("Report ready", "Q3 sales is in your files", link="/files/reports")
    await messenger.error("Import failed", str(exc), user_id=owner)

The events service stores each notification (the bell, the notification
centre) and pushes it live to the person's open pages. Without `user_id`
the message goes to the current context's user (the caller, or whoever
started the task); without one either, nothing is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webos_common import context
from webos_common.bus.schemas import register_event
from webos_common.http.errors import ValidationFailed

TOPIC = "notification:send"
Level = Literal["info", "success", "warning", "error"]


class Notification(BaseModel):
    """A notification to deliver (`notification:send` on the bus, or the events API)."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=200)
    type: str = Field("general", min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    message: str = Field("", max_length=5000)
    level: Level = "info"
    link: str | None = Field(None, max_length=2000)
    metadata: dict[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00$][^\x00]*$")], Any] = Field(
        default_factory=dict)  # keys become MongoDB field names: no NUL, no leading '$'

    @classmethod
    def checked(cls, **fields: Any) -> Notification:
        """Build one, or raise `ValidationFailed` naming the bad field (a 422, nothing sent)."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc, message="Invalid notification") from exc


register_event(TOPIC, Notification)


class StoredNotification(Notification):
    """A notification as the events service keeps and serves it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    read: bool = False
    read_at: datetime | None = None
    created_at: datetime


class Publisher(Protocol):
    async def emit(self, topic: str, payload: Any) -> Any: ...


class Messenger:
    def __init__(self, publisher: Publisher, *, type: str = "general") -> None:
        self.publisher, self.type = publisher, type

    async def send(self, title: str, message: str = "", *, level: Level = "info", user_id: str | None = None,
                   link: str | None = None, type: str | None = None,
                   metadata: dict[str, Any] | None = None) -> Notification | None:
        """Validate and publish; None when there is nobody to tell."""
        if user_id is None:
            user = context.current_user.get()
            user_id = user.id if user is not None and user.id != "system" else None
        if user_id is None:
            return None
        note = Notification.checked(user_id=user_id, type=type or self.type, title=title, message=message,
                                    level=level, link=link, metadata=metadata or {})
        await self.publisher.emit(TOPIC, note.model_dump(mode="json"))
        return note

    async def info(self, title: str, message: str = "", **options: Any) -> Notification | None:
        return await self.send(title, message, level="info", **options)

    async def success(self, title: str, message: str = "", **options: Any) -> Notification | None:
        return await self.send(title, message, level="success", **options)

    async def warning(self, title: str, message: str = "", **options: Any) -> Notification | None:
        return await self.send(title, message, level="warning", **options)

    async def error(self, title: str, message: str = "", **options: Any) -> Notification | None:
        return await self.send(title, message, level="error", **options)
