"""`/api/tasks/...` (sign-in required; mounted by the module host)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response, status

from webos_common.documents import BulkChanges, Conditional, EventPublisher, IdempotencyKey, ListView, Page
from webos_common.documents.sharing import AssigneesIn, Directory, RecordRules, SharesIn
from webos_common.http.paging import Limit, Skip
from webos_common.modules.service_registry import app_registry, provide
from webos_common.settings.client import ModuleSettings
from webos_tasks.models import (
    Board,
    BulkStatus,
    Priority,
    Stats,
    TaskCreate,
    TaskMove,
    TaskRead,
    TaskSettings,
    TaskStatus,
    TaskUpdate,
)
from webos_tasks.service import TaskService

router = APIRouter()


async def tasks_service(request: Request, events: EventPublisher = provide(EventPublisher)) -> TaskService:
    """async: a plain def would run in the thread pool, a thread hop per request"""
    services = app_registry(request.app)
    return TaskService(events=events, directory=services.find(Directory), rules=services.find(RecordRules))


Service = Annotated[TaskService, Depends(tasks_service)]


@router.get("/tasks", response_model=Page[TaskRead])
async def list_tasks(service: Service, view: ListView,
                     status_: Annotated[TaskStatus | None, Query(alias="status")] = None,
                     priority: Priority | None = None, tag: str | None = None, q: str | None = None,
                     due_before: datetime | None = None, due_after: datetime | None = None,
                     sort: str | None = None,
                     assigned: Annotated[Literal["me"] | None, Query()] = None,
                     mine: bool = False) -> Response:
    """The tasks one may see; `assigned=me` only those assigned to one ("Assigned to me"),
    `mine=true` only one's own. `?meta=total` counts every row; `?fields=a,b` returns only those fields."""
    return view.respond(await service.search(status=status_, priority=priority, tag=tag, q=q,
                                             due_before=due_before, due_after=due_after, sort=sort,
                                             assigned_to_me=assigned == "me", mine=mine, **view.options))


@router.post("/tasks", response_model=TaskRead, status_code=status.HTTP_201_CREATED)
async def create_task(task_in: TaskCreate, service: Service, cond: Conditional,
                      key: IdempotencyKey = None) -> TaskRead:
    return cond.respond(await service.create(task_in, idempotency_key=key))


@router.get("/tasks/board", response_model=Board)
async def board(service: Service) -> Board:
    return await service.board()


@router.get("/tasks/stats", response_model=Stats)
async def stats(service: Service) -> Stats:
    return await service.stats()


@router.get("/tasks/trash", response_model=Page[TaskRead])
async def trash(service: Service, skip: Skip = 0, limit: Limit = 50) -> Page[TaskRead]:
    return await service.trash(skip=skip, limit=limit)


@router.post("/tasks/bulk/status")
async def bulk_status(body: BulkStatus, service: Service) -> dict[str, int]:
    """With `versions` (id -> version) every row or none: 412 naming the stale ones."""
    return {"modified": await service.bulk_status(body.ids, body.status, versions=body.versions)}


@router.patch("/tasks/bulk")
async def bulk_update(body: BulkChanges[TaskUpdate], service: Service) -> dict[str, int]:
    """Any field of `TaskUpdate` but `assignees` on many tasks at once (the shell's bulk edit)."""
    return {"modified": await service.bulk_update(body.ids, body.changes, versions=body.versions)}


@router.get("/tasks/{task_id}", response_model=TaskRead)
async def get_task(task_id: str, service: Service, cond: Conditional) -> TaskRead:
    """`ETag` is the version; `If-None-Match` with it is a 304."""
    return cond.respond(await service.get(task_id))


@router.patch("/tasks/{task_id}", response_model=TaskRead)
async def update_task(task_id: str, task_in: TaskUpdate, service: Service, cond: Conditional) -> TaskRead:
    """`If-Match: "<version>"` writes only over that version (412 with the current one otherwise)."""
    return cond.respond(await service.update(task_id, task_in, version=cond.version))


@router.put("/tasks/{task_id}/shares", response_model=TaskRead)
async def share_task(task_id: str, body: SharesIn, service: Service, cond: Conditional) -> TaskRead:
    """Share with people or roles (read or write); the list replaces the old one. `If-Match:
    "<version>"` replaces it only over that version (412 with the current one otherwise)."""
    return cond.respond(await service.share(task_id, body, version=cond.version))


@router.put("/tasks/{task_id}/assignees", response_model=TaskRead)
async def assign_task(task_id: str, body: AssigneesIn, service: Service, cond: Conditional) -> TaskRead:
    """Assign to people (each new one is notified); the list replaces the old one. `If-Match:
    "<version>"` replaces it only over that version (412 with the current one otherwise)."""
    return cond.respond(await service.assign(task_id, body, version=cond.version))


@router.post("/tasks/{task_id}/move", response_model=TaskRead)
async def move_task(task_id: str, body: TaskMove, service: Service, cond: Conditional) -> TaskRead:
    return cond.respond(await service.move(task_id, body.status, version=cond.version))


@router.delete("/tasks/{task_id}", response_model=TaskRead)
async def delete_task(task_id: str, service: Service, cond: Conditional) -> TaskRead:
    return cond.respond(await service.delete(task_id, version=cond.version))


@router.post("/tasks/{task_id}/restore", response_model=TaskRead)
async def restore_task(task_id: str, service: Service, cond: Conditional) -> TaskRead:
    return cond.respond(await service.restore(task_id, version=cond.version))


@router.delete("/tasks/{task_id}/purge", status_code=status.HTTP_204_NO_CONTENT)
async def purge_task(task_id: str, service: Service) -> None:
    await service.purge(task_id)


async def task_settings(request: Request) -> TaskSettings:
    """The module's settings as an admin left them (defaults until the settings service answers)."""
    found = app_registry(request.app).find(ModuleSettings)
    return found.get() if found is not None else TaskSettings()


@router.get("/widget")
async def widget(service: Service, settings: Annotated[TaskSettings, Depends(task_settings)],
                 limit: Annotated[int | None, Query(ge=1, le=20)] = None) -> dict[str, object]:
    """The dashboard widget: open counts and the next tasks due (`widget_limit` of them,
    done ones too when `widget_show_done`)."""
    stats = await service.stats()
    upcoming = await service.search(sort="due_date", limit=limit or settings.widget_limit,
                                    due_after=datetime(1970, 1, 1))
    shown = [t for t in upcoming.items if settings.widget_show_done or t.status is not TaskStatus.done]
    return {"open": stats.todo + stats.in_progress, "overdue": stats.overdue, "done": stats.done,
            "items": [t.model_dump(mode="json") for t in shown]}


@router.get("/search")
async def search(service: Service, q: Annotated[str, Query(min_length=1, max_length=200)],
                 limit: Annotated[int, Query(ge=1, le=20)] = 5) -> dict[str, object]:
    """Records for the shell's Ctrl+K palette: the person's tasks whose title matches."""
    found = await service.search(q=q, limit=limit, sort="-updated_at")
    return {"items": [{"id": t.id, "label": t.title, "status": t.status.value,
                       "path": f"/m/tasks/tasks/{quote(t.id, safe='')}"} for t in found.items]}
