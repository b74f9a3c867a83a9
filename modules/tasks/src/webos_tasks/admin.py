"""Admin pages and the admin API (`/api/tasks/admin`, permission `tasks.admin`)."""

from __future__ import annotations

from fastapi import APIRouter

from webos_common.modules.manifest import AdminPage
from webos_tasks.models import Stats
from webos_tasks.service import TaskService

pages = [AdminPage(label="Tasks overview", path="/admin/m/tasks", permission="tasks.admin")]

router = APIRouter()


@router.get("/stats", response_model=Stats)
async def all_stats() -> Stats:
    """Counts over every user's tasks (the caller is an admin, so nothing is scoped away)."""
    return await TaskService().stats()
