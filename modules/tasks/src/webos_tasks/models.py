"""The task document and its API schemas (Task / TaskCreate / TaskUpdate / TaskRead)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, GetJsonSchemaHandler, StringConstraints, WithJsonSchema

from webos_common.bus import register_event
from webos_common.documents import BULK_MAX_IDS, CreateModel, ListQuery, OwnedDocument, OwnedReadModel, UpdateModel
from webos_common.documents.sharing import RecordRule, UserRef


class TaskStatus(StrEnum):
    todo = "todo"
    in_progress = "in_progress"
    done = "done"

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> Any:
        """The schema names each value as people read it (`x-enumNames`): the shell's grid and forms show it."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["x-enumNames"] = [STATUS_TITLES[status] for status in cls]
        return schema


STATUS_TITLES = {TaskStatus.todo: "To do", TaskStatus.in_progress: "In progress", TaskStatus.done: "Done"}


class Priority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# a file in the AFS; the shell's AutoForm offers a file picker for `format: fs-urn`
FileUrn = Annotated[str, StringConstraints(pattern=r"^fs://[a-z0-9][a-z0-9_-]*/\S+$", max_length=1000),
                    WithJsonSchema({"type": "string", "format": "fs-urn", "title": "Attachment"})]


class Task(OwnedDocument):
    title: str
    description: str = ""
    status: TaskStatus = TaskStatus.todo
    priority: Priority = Priority.medium
    due_date: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    completed_at: datetime | None = None
    reminded_for: str | None = None  # the due day a reminder was sent for
    attachment: str | None = None

    class Settings:
        name = "items"  # -> tasks_items
        queries = [  # each gets its indexes (`webos_common.documents.queries`)
            ListQuery(),                                                   # the list: newest first
            ListQuery(filter=["status"], sort=["-priority", "due_date"]),  # a board column
            ListQuery(sort=["due_date"]),                                  # next due: widget, reminders
            # the grid's other column orders (`service.SORTABLE`, either way: an index reads both);
            # on a million rows an admin's page in one of them was a sort of every row
            ListQuery(sort=["-updated_at"]),                               # and the Ctrl+K palette
            ListQuery(sort=["title"]),
            ListQuery(sort=["-priority"]),
            ListQuery(sort=["status"]),
        ]
        search = ["title"]  # quick search (`q`): a word of the title starts with each word typed


class TaskCreate(CreateModel):
    title: Title
    description: str = Field(default="", max_length=10_000)
    status: TaskStatus = TaskStatus.todo
    priority: Priority = Priority.medium
    due_date: UtcDatetime | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    attachment: FileUrn | None = None
    assignees: list[UserRef] = Field(default_factory=list, max_length=20)  # each is notified


class TaskUpdate(UpdateModel):
    clearable = frozenset({"due_date", "attachment"})

    title: Title | None = None
    description: str | None = Field(default=None, max_length=10_000)
    priority: Priority | None = None
    due_date: UtcDatetime | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    attachment: FileUrn | None = None
    assignees: list[UserRef] | None = Field(default=None, max_length=20)


class TaskRead(OwnedReadModel):
    title: str
    description: str
    status: TaskStatus
    priority: Priority
    due_date: datetime | None
    tags: list[str]
    completed_at: datetime | None = None
    attachment: str | None = None


class TaskMove(CreateModel):
    status: TaskStatus


class BulkStatus(CreateModel):
    ids: list[str] = Field(min_length=1, max_length=BULK_MAX_IDS)
    status: TaskStatus
    versions: dict[str, int] | None = None  # id -> the version the change was made against


class Board(BaseModel):
    todo: list[TaskRead]
    in_progress: list[TaskRead]
    done: list[TaskRead]


class Stats(BaseModel):
    todo: int = 0
    in_progress: int = 0
    done: int = 0
    total: int = 0
    overdue: int = 0


class TaskSettings(BaseModel):
    """Per-module settings; the dashboard widget reads the `widget_*` ones."""

    default_view: Literal["list", "board"] = "list"  # what /m/tasks opens: the table or the board
    remind_due_tomorrow: bool = True
    widget_limit: int = Field(default=5, ge=1, le=20)
    widget_show_done: bool = False
    # e.g. {"role": "manager", "access": "read", "where": {"tags": "team-a"}}: managers read team-a's tasks
    record_rules: list[RecordRule] = Field(default_factory=list, max_length=50)


class TaskMoved(BaseModel):
    id: str
    title: str
    owner_id: str
    from_status: TaskStatus
    to_status: TaskStatus
    version: int = 0


register_event("task:moved", TaskMoved)
register_event("task:completed", TaskMoved)
