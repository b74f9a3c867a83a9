"""Task status records in the NATS KV bucket `webos_tasks` (key `task.<id>`).

Written by the kicker (queued) and the worker (running, progress, the end),
read by the events service's `/tasks` API.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue
from pydantic import BaseModel, ConfigDict, Field

from webos_common.bus.schemas import register_event
from webos_common.bus.streams import open_key_value
from webos_common.security.nats_permissions import TASK_TOPICS

BUCKET = "webos_tasks"
KEEP_SECONDS = 7 * 86400
MAX_DELIVERIES = 3  # deliveries of one task to workers (a worker that vanished counts as one)


def ack_wait() -> float:
    """Seconds JetStream waits for a worker's ack or in-progress beat before redelivering."""
    return float(os.environ.get("WEBOS_TASKS_ACK_WAIT", "30"))


def stale_after() -> float:
    """A running task whose worker has not beaten for this long is shown as interrupted."""
    return float(os.environ.get("WEBOS_TASKS_STALE_AFTER", str(ack_wait())))


class TaskState(StrEnum):
    queued = "queued"
    running = "running"
    retrying = "retrying"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (TaskState.succeeded, TaskState.failed, TaskState.cancelled)


def _now() -> datetime:
    return datetime.now(UTC)


class TaskRecord(BaseModel):
    id: str
    name: str
    state: TaskState = TaskState.queued
    user_id: str | None = None
    username: str | None = None
    trace_id: str | None = None
    created_at: datetime = Field(default_factory=_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    percent: float | None = None
    message: str | None = None
    result: Any = None
    error: str | None = None
    cancel_requested: bool = False
    deliveries: int = 0  # times a worker received it; > 1: an earlier worker vanished mid-run
    heartbeat_at: datetime | None = None  # the running worker's last sign of life
    checkpoint: Any = None  # how far a run got (`tasks.checkpoint`): where a later delivery resumes


class TaskAnnouncement(BaseModel):
    """The payload of `task:status` and `task:progress` (`middleware.announce`): registered so the
    event catalogue describes it; every field optional, so no announcement is ever refused."""

    model_config = ConfigDict(extra="allow")

    task_id: str | None = None
    name: str | None = None
    state: TaskState | None = None
    percent: float | None = None
    message: str | None = None
    error: str | None = None
    attempts: int | None = None
    user_id: str | None = None


for _topic in TASK_TOPICS:
    register_event(_topic, TaskAnnouncement)


def observed(record: TaskRecord, now: datetime | None = None) -> TaskRecord:
    """The record as a reader should see it: `running` whose worker stopped beating is
    `retrying` (JetStream redelivers it within the ack wait), or `failed` after the last delivery."""
    if record.state is not TaskState.running:
        return record
    beat = record.heartbeat_at or record.started_at
    now = now or _now()
    if beat is None or (now - beat).total_seconds() < stale_after():
        return record
    if record.deliveries < MAX_DELIVERIES:
        return record.model_copy(update={"state": TaskState.retrying,
                                         "message": "its worker stopped; handed to another worker"})
    return record.model_copy(update={"state": TaskState.failed, "finished_at": beat,
                                     "error": f"its worker stopped during the last of {MAX_DELIVERIES} attempts"})


def json_safe(value: Any) -> Any:
    """The value if it survives JSON, else its repr."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)[:2000]


class TaskStore:
    def __init__(self, js: JetStreamContext, *, bucket: str = BUCKET, create: bool = True) -> None:
        self.js = js
        self.create = create  # False in services: their credential may only use the provisioned bucket
        self.bucket = bucket
        self._kv: KeyValue | None = None

    async def open(self) -> KeyValue:
        if self._kv is None:
            self._kv = await open_key_value(
                self.js, KeyValueConfig(bucket=self.bucket, history=1, ttl=KEEP_SECONDS, storage=StorageType.FILE),
                create=self.create)
        return self._kv

    async def get(self, task_id: str) -> TaskRecord | None:
        kv = await self.open()
        try:
            entry = await kv.get(f"task.{task_id}")
        except KeyNotFoundError:
            return None
        return observed(TaskRecord.model_validate_json(entry.value)) if entry.value else None

    async def put(self, record: TaskRecord) -> None:
        kv = await self.open()
        await kv.put(f"task.{record.id}", record.model_dump_json().encode())

    async def update(self, task_id: str, change: Callable[[TaskRecord], None],
                     *, default: TaskRecord | None = None) -> TaskRecord | None:
        """Read-modify-write with compare-and-set (retried on a concurrent write)."""
        kv = await self.open()
        key = f"task.{task_id}"
        for _ in range(20):
            try:
                entry = await kv.get(key)
                record = TaskRecord.model_validate_json(entry.value or b"{}")
                revision: int | None = entry.revision
            except KeyNotFoundError:
                if default is None:
                    return None
                record, revision = default.model_copy(), None
            change(record)
            try:
                if revision is None:
                    await kv.create(key, record.model_dump_json().encode())
                else:
                    await kv.update(key, record.model_dump_json().encode(), last=revision)
                return record
            except KeyWrongLastSequenceError:
                continue
        raise RuntimeError(f"task {task_id}: too many concurrent updates")

    async def list(self, *, user_id: str | None = None, limit: int = 100) -> list[TaskRecord]:
        """Newest first; only `user_id`'s when given."""
        kv = await self.open()
        try:
            keys = await kv.keys()
        except NoKeysError:
            return []
        records: list[TaskRecord] = []
        for key in keys:
            try:
                entry = await kv.get(key)
            except KeyNotFoundError:
                continue
            if not entry.value:
                continue
            record = observed(TaskRecord.model_validate_json(entry.value))
            if user_id is None or record.user_id == user_id:
                records.append(record)
        records.sort(key=lambda r: r.created_at, reverse=True)
        return records[:limit]


CANCEL_PREFIX = "webos.tasks.cancel"


async def request_cancel(store: TaskStore, nc: NATS, task_id: str) -> TaskRecord | None:
    """Mark the task cancelled (queued) or ask its worker to stop it (running)."""

    def request(record: TaskRecord) -> None:
        if record.state.finished:
            return
        record.cancel_requested = True
        if record.state is TaskState.queued:
            record.state, record.finished_at = TaskState.cancelled, _now()

    record = await store.update(task_id, request)
    if record is not None and record.cancel_requested:
        await nc.publish(f"{CANCEL_PREFIX}.{task_id}", b"")
    return record
