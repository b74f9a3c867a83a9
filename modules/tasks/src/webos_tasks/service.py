"""Task use cases: CRUD from BaseService, plus filters, the board, moves,
bulk status, stats and due-tomorrow reminders."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from webos_common import context
from webos_common.documents import BaseService, Page, search_filter
from webos_common.documents.sharing import AssigneesIn
from webos_common.http.errors import ValidationFailed
from webos_tasks.models import Board, Stats, Task, TaskCreate, TaskMoved, TaskRead, TaskStatus, TaskUpdate

SORTABLE = {"created_at", "updated_at", "due_date", "priority", "title", "status"}
NOTIFY_TOPIC = "notification:send"


def parse_sort(sort: str | None) -> list[tuple[str, int]]:
    """`-due_date,title` -> [("due_date", -1), ("title", 1)]; unknown fields are a 422."""
    if not sort:
        return [("created_at", -1)]
    out = []
    for part in sort.split(","):
        name = part.strip().lstrip("-")
        if name not in SORTABLE:
            raise ValidationFailed(f"Invalid input: sort (cannot sort by {name!r})", details=[
                {"field": "sort", "location": "query", "message": f"one of {sorted(SORTABLE)}", "type": "enum"}])
        out.append((name, -1 if part.strip().startswith("-") else 1))
    return out


class TaskService(BaseService[Task, TaskCreate, TaskUpdate, TaskRead]):
    module, entity = "tasks", "task"
    document, read_schema = Task, TaskRead

    async def create(self, data_in: TaskCreate, *, idempotency_key: str | None = None) -> TaskRead:
        """A task, then its assignees (checked against the directory, each notified); a retried
        `idempotency_key` assigns nobody twice (the assignees are unchanged, so nobody is notified)."""
        assignees = data_in.assignees
        if assignees:
            self.can_write()
            await self._check_known([("user", a) for a in assignees], "assignees")
        created = await super().create(data_in.model_copy(update={"assignees": []}), idempotency_key=idempotency_key)
        return await self.assign(created.id, AssigneesIn(assignees=assignees)) if assignees else created

    async def update(self, id: Any, data_in: TaskUpdate | Mapping[str, Any], *,
                     version: int | None = None) -> TaskRead:
        """The change (at `version`, when given: 412 otherwise), then the assignees, if named."""
        changes = data_in.model_dump(exclude_unset=True) if isinstance(data_in, TaskUpdate) else dict(data_in)
        assignees = changes.pop("assignees", None)
        wanted = changes or assignees is None or version is not None
        updated = await super().update(id, changes, version=version) if wanted else None
        if assignees is not None:  # over the version just written: a change in between is a 412
            return await self.assign(id, AssigneesIn(assignees=assignees),
                                     version=updated.version if updated is not None else None)
        assert updated is not None
        return updated

    async def bulk_update(self, ids: Sequence[Any], data_in: TaskUpdate | Mapping[str, Any], *,
                          versions: Mapping[str, int] | None = None) -> int:
        """The same change on many tasks; not their assignees (each is checked and notified: `assign`)."""
        changes = data_in.model_dump(exclude_unset=True) if isinstance(data_in, TaskUpdate) else dict(data_in)
        if "assignees" in changes:
            raise ValidationFailed("Invalid input: changes.assignees", details=[
                {"field": "changes.assignees", "location": "body", "type": "value_error",
                 "message": "assign people one task at a time (PUT /api/tasks/tasks/{id}/assignees)"}])
        return await super().bulk_update(ids, changes, versions=versions)

    async def search(self, *, status: TaskStatus | None = None, priority: str | None = None,
                     tag: str | None = None, q: str | None = None, due_before: datetime | None = None,
                     due_after: datetime | None = None, sort: str | None = None, skip: int = 0,
                     limit: int | None = None, total: bool = False, fields: list[str] | None = None,
                     assigned_to_me: bool = False, mine: bool = False, cursor: str | None = None,
                     estimate: bool = False, count_cap: int | None = None) -> Page[TaskRead]:
        filters = self.filters(status=status, priority=priority, tag=tag, q=q, due_before=due_before,
                               due_after=due_after, assigned_to_me=assigned_to_me, mine=mine)
        return await self.list(filters, skip=skip, limit=limit, sort=parse_sort(sort), total=total, fields=fields,
                               cursor=cursor, estimate=estimate, count_cap=count_cap)

    @staticmethod
    def filters(*, status: TaskStatus | None = None, priority: str | None = None, tag: str | None = None,
                q: str | None = None, due_before: datetime | None = None, due_after: datetime | None = None,
                assigned_to_me: bool = False, mine: bool = False) -> dict[str, Any]:
        """The filter of `search` (before the scope of who asks): the scan check explains it."""
        filters: dict[str, Any] = {}
        me = context.current_user.get()
        if assigned_to_me and me is not None:
            filters["assignees"] = me.id
        if mine and me is not None:
            filters["owner_id"] = me.id
        if status:
            filters["status"] = status.value
        if priority:
            filters["priority"] = priority
        if tag:
            filters["tags"] = tag
        if q:  # each word of `q` starts a word of the title, any case or accent (`documents.search`)
            filters.update(search_filter(q))
        due: dict[str, datetime] = {}
        if due_before:
            due["$lt"] = due_before
        if due_after:
            due["$gte"] = due_after
        if due:
            filters["due_date"] = due
        return filters

    async def board(self, *, per_column: int = 100) -> Board:
        self.can_read()
        columns = {}
        for status in TaskStatus:
            docs = await self.repo.find({"status": status.value}, limit=per_column,
                                        sort=[("priority", -1), ("due_date", 1)])
            columns[status.value] = [self.read(d) for d in docs]
        return Board(**columns)

    async def move(self, id: str, to: TaskStatus, *, version: int | None = None) -> TaskRead:
        self.can_write()

        async def work(session: Any) -> Task:
            changes: dict[str, Any] = {"status": to.value}
            changes["completed_at"] = datetime.now(UTC) if to is TaskStatus.done else None
            # the row before and after, in one write of the transaction: `from_status` is exact
            before, doc = await self.repo.update_from(id, changes, version=version, session=session)
            moved = TaskMoved(id=str(doc.id), title=doc.title, owner_id=doc.owner_id, from_status=before.status,
                              to_status=to, version=doc.version).model_dump(mode="json")
            await self.events.emit("task:moved", moved, session=session)
            if to is TaskStatus.done and before.status is not TaskStatus.done:
                await self.events.emit("task:completed", moved, session=session)
            return doc

        return self.read(await self.events.atomically(work, what="The task"))

    async def bulk_status(self, ids: list[str], status: TaskStatus, *,
                          versions: dict[str, int] | None = None) -> int:
        done_at = datetime.now(UTC) if status is TaskStatus.done else None
        return await self.bulk_update(ids, {"status": status.value, "completed_at": done_at}, versions=versions)

    async def stats(self) -> Stats:
        self.can_read()
        rows = await self.repo.aggregate([{"$group": {"_id": "$status", "count": {"$sum": 1}}}])
        counts = {row["_id"]: row["count"] for row in rows}
        overdue = await self.repo.count({"status": {"$ne": TaskStatus.done.value},
                                         "due_date": {"$lt": datetime.now(UTC)}})
        return Stats(**{s.value: counts.get(s.value, 0) for s in TaskStatus},
                     total=sum(counts.values()), overdue=overdue)

    async def remind_due_tomorrow(self, now: datetime | None = None) -> int:
        """Ask for a notification for every open task due tomorrow (UTC), once per task and day."""
        now = now or datetime.now(UTC)
        start = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        day = start.date().isoformat()
        due = {"status": {"$ne": TaskStatus.done.value}, "due_date": {"$gte": start, "$lt": start + timedelta(days=1)},
               "reminded_for": {"$ne": day}}
        sent = 0
        while batch := await self.repo.find(due, limit=100):
            for task in batch:
                await self.events.atomically(functools.partial(self._remind, task, day))
                sent += 1
        return sent


    async def _remind(self, task: Task, day: str, session: Any) -> None:
        await self.repo.update(task.id, {"reminded_for": day}, session=session)
        await self.events.emit(NOTIFY_TOPIC, {
            "user_id": task.owner_id, "type": "task_reminder", "title": "Task due tomorrow",
            "message": f"Your task '{task.title}' is due tomorrow", "level": "info",
            "link": f"/m/tasks?id={task.id}",
            "metadata": {"task_id": str(task.id), "module": "tasks", "due_date": day},
        }, session=session)

