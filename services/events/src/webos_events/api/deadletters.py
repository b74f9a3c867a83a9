"""Dead letters: list, inspect, replay one or all, discard (admin only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from webos_common.security import area_permission
from webos_events.api.deps import AdminUser, PagingDep, Resources, bus_js
from webos_events.domain.models import DeadLetterRead, Page, ReplayResult
from webos_events.services import deadletters

router = APIRouter(prefix="/dead-letters", tags=["dead letters"], dependencies=[area_permission("events")])


@router.get("", response_model=Page[DeadLetterRead])
async def list_dead_letters(
    resources: Resources, admin: AdminUser, paging: PagingDep,
    status: Literal["pending", "replayed", "discarded"] | None = "pending",
    consumer: Annotated[str | None, Query(max_length=300)] = None,
    topic: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, object]:
    items, total = await deadletters.search(resources.db, status=status, consumer=consumer, topic=topic,
                                            skip=paging.skip, limit=paging.limit)
    return paging.page(items, total)


@router.post("/replay", response_model=ReplayResult)
async def replay_all(resources: Resources, admin: AdminUser,
                     consumer: Annotated[str | None, Query(max_length=300)] = None) -> ReplayResult:
    count = await deadletters.replay_all(resources.db, bus_js(resources), consumer=consumer, by=admin.id)
    return ReplayResult(replayed=count)


@router.get("/{letter_id}", response_model=DeadLetterRead)
async def get_dead_letter(letter_id: str, resources: Resources, admin: AdminUser) -> DeadLetterRead:
    return await deadletters.get(resources.db, letter_id)


@router.post("/{letter_id}/replay", response_model=DeadLetterRead)
async def replay_one(letter_id: str, resources: Resources, admin: AdminUser) -> DeadLetterRead:
    return await deadletters.replay(resources.db, bus_js(resources), letter_id, by=admin.id)


@router.delete("/{letter_id}", response_model=DeadLetterRead)
async def discard(letter_id: str, resources: Resources, admin: AdminUser) -> DeadLetterRead:
    return await deadletters.discard(resources.db, letter_id, by=admin.id)
