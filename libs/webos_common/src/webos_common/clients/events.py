"""Async client of the events service: notifications, the event log, task status.

    async with EventsClient(f"{gateway}/api/events", token=token) as events:
        await events.notify("ann", "Report ready", level="success", link="/files/q3")
        unread = await events.unread_count()
        record = await events.task(task_id)          # a webos_common.tasks TaskRecord
        page = await events.log(topic="order:paid", since=yesterday)

(From server code inside the platform, `webos_common.bus.notify.Messenger` sends
over the bus instead: no HTTP, no token.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from webos_common.bus.notify import Level, Notification, StoredNotification
from webos_common.clients.base import ServiceClient, params
from webos_common.documents.ports import Page
from webos_common.tasks.status import TaskRecord

NotificationInfo = StoredNotification


class LoggedEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    topic: str
    source: str
    payload: dict[str, Any] = {}
    user_id: str | None = None
    trace_id: str | None = None
    timestamp: datetime


class EventsClient(ServiceClient):
    service = "events"

    # -- notifications ----------------------------------------------------------
    async def notify(self, user_id: str, title: str, message: str = "", *, level: Level = "info",
                     type: str = "general", link: str | None = None,
                     metadata: dict[str, Any] | None = None) -> NotificationInfo:
        body = Notification.checked(user_id=user_id, title=title, message=message, level=level, type=type,
                                    link=link, metadata=metadata or {}).model_dump(mode="json")
        return NotificationInfo.model_validate(await self._json("POST", "/notifications", json=body))

    async def notifications(self, *, unread: bool | None = None, skip: int = 0,
                            limit: int = 50) -> Page[NotificationInfo]:
        query = params(unread=unread, skip=skip, limit=limit)
        return Page[NotificationInfo].model_validate(await self._json("GET", "/notifications", params=query))

    async def unread_count(self) -> int:
        return int((await self._json("GET", "/notifications/unread-count"))["unread"])

    async def mark_read(self, notification_id: str) -> NotificationInfo:
        return NotificationInfo.model_validate(await self._json("POST", f"/notifications/{notification_id}/read"))

    async def mark_all_read(self) -> int:
        """Returns what is left unread (0)."""
        return int((await self._json("POST", "/notifications/read-all"))["unread"])

    # -- the event log ----------------------------------------------------------
    async def log(self, *, topic: str | None = None, source: str | None = None, user_id: str | None = None,
                  trace_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
                  skip: int = 0, limit: int = 50) -> Page[LoggedEvent]:
        query = params(topic=topic, source=source, user_id=user_id, trace_id=trace_id,
                       since=since.isoformat() if since else None, until=until.isoformat() if until else None,
                       skip=skip, limit=limit)
        return Page[LoggedEvent].model_validate(await self._json("GET", "/events", params=query))

    # -- background tasks -------------------------------------------------------
    async def task(self, task_id: str) -> TaskRecord:
        return TaskRecord.model_validate(await self._json("GET", f"/tasks/{task_id}"))

    async def tasks(self, *, user_id: str | None = None, skip: int = 0, limit: int = 50) -> Page[TaskRecord]:
        query = params(user_id=user_id, skip=skip, limit=limit)
        return Page[TaskRecord].model_validate(await self._json("GET", "/tasks", params=query))

    async def cancel_task(self, task_id: str) -> TaskRecord:
        return TaskRecord.model_validate(await self._json("POST", f"/tasks/{task_id}/cancel"))
