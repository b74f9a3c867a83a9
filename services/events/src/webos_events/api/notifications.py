"""Notifications: send (permission `notifications.send`), and a user's own list."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from webos_common.security import CurrentUser, area_permission, require_permission
from webos_events.api.deps import PagingDep, Resources
from webos_events.domain.models import NotificationIn, NotificationRead, Page, UnreadCount
from webos_events.services import notifications

router = APIRouter(prefix="/notifications", tags=["notifications"], dependencies=[area_permission("events")])


@router.post("", response_model=NotificationRead, status_code=201,
             dependencies=[Depends(require_permission("notifications.send"))])
async def send(note_in: NotificationIn, resources: Resources) -> NotificationRead:
    return await notifications.notify(resources.db, resources.bus, note_in)


@router.get("", response_model=Page[NotificationRead])
async def list_mine(resources: Resources, user: CurrentUser, paging: PagingDep,
                    unread: bool | None = None) -> dict[str, object]:
    items, total = await notifications.list_for(resources.db, user.id, unread=unread, skip=paging.skip,
                                                limit=paging.limit)
    return paging.page(items, total)


@router.get("/unread-count", response_model=UnreadCount)
async def count_unread(resources: Resources, user: CurrentUser) -> UnreadCount:
    return UnreadCount(unread=await notifications.unread_count(resources.db, user.id))


@router.post("/read-all", response_model=UnreadCount)
async def read_all(resources: Resources, user: CurrentUser) -> UnreadCount:
    await notifications.mark_all_read(resources.db, user.id)
    return UnreadCount(unread=await notifications.unread_count(resources.db, user.id))


@router.get("/{note_id}", response_model=NotificationRead)
async def get_one(note_id: str, resources: Resources, user: CurrentUser) -> NotificationRead:
    return await notifications.get_for(resources.db, user.id, note_id)


@router.post("/{note_id}/read", response_model=NotificationRead)
async def read_one(note_id: str, resources: Resources, user: CurrentUser) -> NotificationRead:
    return await notifications.mark_read(resources.db, user.id, note_id)
