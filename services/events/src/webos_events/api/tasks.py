"""Background task status (from the `webos_tasks` KV bucket) and cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from webos_common.http.errors import Forbidden, NotFound, Unavailable
from webos_common.http.service import ServiceResources
from webos_common.identity import User
from webos_common.security import CurrentUser, area_permission
from webos_common.tasks import TaskRecord, TaskStore
from webos_common.tasks.status import request_cancel
from webos_events.api.deps import PagingDep, Resources
from webos_events.domain.models import Page

router = APIRouter(prefix="/tasks", tags=["tasks"], dependencies=[area_permission("events")])

MAX_SCAN = 10_000
# a task id is a key in the task KV bucket: only what a NATS key token holds
TaskId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,128}$")]


def _store(resources: ServiceResources) -> TaskStore:
    if resources.nats is None:
        raise Unavailable("events service has no NATS connection")
    return TaskStore(resources.nats.jetstream(), create=resources.settings.may_provision)


async def _visible(resources: ServiceResources, user: User, task_id: str) -> TaskRecord:
    record = await _store(resources).get(task_id)
    if record is None or not (user.is_admin or record.user_id == user.id):
        raise NotFound("Task not found", details={"id": task_id})
    return record


@router.get("", response_model=Page[TaskRecord])
async def list_tasks(resources: Resources, user: CurrentUser, paging: PagingDep,
                     user_id: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, object]:
    """Your tasks, newest first (admins: anyone's, or all without `user_id`)."""
    if not user.is_admin:
        if user_id not in (None, user.id):
            raise Forbidden("Only admins may list other users' tasks", details={"field": "user_id"})
        user_id = user.id
    records = await _store(resources).list(user_id=user_id, limit=MAX_SCAN)
    return paging.page(records[paging.skip:paging.skip + paging.limit], len(records))


@router.get("/{task_id}", response_model=TaskRecord)
async def get_task(task_id: TaskId, resources: Resources, user: CurrentUser) -> TaskRecord:
    return await _visible(resources, user, task_id)


@router.post("/{task_id}/cancel", response_model=TaskRecord)
async def cancel_task(task_id: TaskId, resources: Resources, user: CurrentUser) -> TaskRecord:
    await _visible(resources, user, task_id)
    assert resources.nats is not None
    record = await request_cancel(_store(resources), resources.nats, task_id)
    if record is None:
        raise NotFound("Task not found", details={"id": task_id})
    return record
