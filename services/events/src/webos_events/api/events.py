"""GET /events: the event log (admins: all; others: their own)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from webos_common.security import CurrentUser, area_permission
from webos_events.api.deps import PagingDep, Resources
from webos_events.domain.models import EventRead, Page
from webos_events.services import eventlog

router = APIRouter(prefix="/events", tags=["event log"], dependencies=[area_permission("events")])


@router.get("", response_model=Page[EventRead])
async def list_events(
    resources: Resources, user: CurrentUser, paging: PagingDep,
    topic: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    user_id: Annotated[str | None, Query(max_length=200)] = None,
    trace_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None, until: datetime | None = None,
) -> dict[str, object]:
    items, total = await eventlog.search(
        resources.db, user, topic=topic, source=source, user_id=user_id, trace_id=trace_id,
        since=since, until=until, skip=paging.skip, limit=paging.limit,
    )
    return paging.page(items, total)


@router.get("/records/{record_id}", response_model=Page[EventRead])
async def record_history(resources: Resources, user: CurrentUser, paging: PagingDep,
                         record_id: Annotated[str, Path(min_length=1, max_length=200)]) -> dict[str, object]:
    """A record's audit trail, newest first, for whoever may read the record (404 otherwise)."""
    items, total = await eventlog.history(resources.db, user, record_id, skip=paging.skip, limit=paging.limit)
    return paging.page(items, total)


@router.get("/{event_id}", response_model=EventRead)
async def get_event(event_id: str, resources: Resources, user: CurrentUser) -> EventRead:
    return await eventlog.get(resources.db, user, event_id)
