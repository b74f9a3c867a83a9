"""A background job of the module host, kept and shown as a task of the
platform's task system (`webos_common.tasks`): a record in the `webos_tasks`
store the events service's `/tasks` API and the shell read, `task:status`
and `task:progress` events the shell pushes live, `progress`/`checkpoint`
inside, cancel through the store, and a notification to the person when it
ends.

Why here and not on the TaskIQ worker: an import writes through the
collection's own routes (its validation, audit fields, idempotency keys and
outbox events), and only the module's own host has them. A host that stops
mid-job leaves the record silent (shown as interrupted once its heartbeat is
stale); running the import again is safe (each row has its idempotency key).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from jose import JOSEError, jwt
from loguru import logger

from webos_common import context, tasks
from webos_common.bus.notify import Messenger
from webos_common.documents import EventPublisher
from webos_common.http.errors import Unavailable
from webos_common.identity import User
from webos_common.tasks.middleware import TaskCancelled, announce
from webos_common.tasks.status import TaskRecord, TaskState, json_safe

Work = Callable[[], Awaitable[Any]]
_running: set[asyncio.Task[None]] = set()


def _store() -> Any:
    if not tasks.broker.started or tasks.broker.store is None:
        raise Unavailable("Background tasks are not available on this host (no NATS connection)",
                          details={"dependency": "nats"})
    return tasks.broker.store


async def start(name: str, work: Work, *, user: User, events: EventPublisher, link: str | None = None,
                done: Callable[[Any], str] = str) -> str:
    """Record the job as a running task of `user`, run `work` in the background, and return the
    task id. `done(result)` is the text of the notification when it succeeds."""
    store = _store()
    now = datetime.now(UTC)
    record = TaskRecord(id=uuid.uuid4().hex, name=name, user_id=user.id, username=user.username,
                        trace_id=context.trace_id.get(), state=TaskState.running, started_at=now,
                        heartbeat_at=now, attempts=1, deliveries=1, percent=0.0, message="starting")
    await store.put(record)
    await announce(tasks.broker, record)
    snapshot, credential = context.capture(), context.credential.get()

    async def run() -> None:
        context.restore(snapshot)
        context.credential.set(credential)  # signs the progress events for the person while it lasts
        tasks.current_task_id.set(record.id)
        await _finish(record.id, name, await _outcome(work), user=user, events=events, link=link, done=done)

    job = asyncio.create_task(run(), name=f"job:{name}:{record.id}")
    _running.add(job)
    job.add_done_callback(_running.discard)
    return record.id


async def _outcome(work: Work) -> tuple[TaskState, Any, str | None]:
    try:
        return TaskState.succeeded, await work(), None
    except (TaskCancelled, asyncio.CancelledError):
        return TaskState.cancelled, None, "cancelled"
    except Exception as exc:  # noqa: BLE001 - the job's failure is its record's, told to its person
        logger.exception("background job failed")
        return TaskState.failed, None, f"{type(exc).__name__}: {exc}"[:4000]


async def _finish(task_id: str, name: str, outcome: tuple[TaskState, Any, str | None], *, user: User,
                  events: EventPublisher, link: str | None, done: Callable[[Any], str]) -> None:
    state, result, error = outcome

    def finished(record: TaskRecord) -> None:
        record.state, record.error, record.finished_at = state, error, datetime.now(UTC)
        if state is TaskState.succeeded:
            record.result, record.percent, record.message = json_safe(result), 100.0, "done"

    record = await _store().update(task_id, finished)
    if record is not None:
        await announce(tasks.broker, record)
    texts = {TaskState.succeeded: (f"{name} finished", "success"), TaskState.failed: (f"{name} failed", "error"),
             TaskState.cancelled: (f"{name} was cancelled", "warning")}
    title, level = texts[state]
    text = done(result) if state is TaskState.succeeded else (error or "")
    with context.as_user(None):  # the host's own event, addressed to the person
        try:
            await Messenger(events, type="task").send(title, text, level=level, user_id=user.id,  # type: ignore[arg-type]
                                                      link=link, metadata={"task_id": task_id, "state": state.value})
        except Exception:  # noqa: BLE001 - the outcome is recorded already
            logger.exception("could not notify {} about job {}", user.id, task_id)


async def report(done: int, total: int, message: str) -> None:
    """Progress of the running job (and its heartbeat); raises TaskCancelled when asked to stop."""
    _forget_expired_credential()
    percent = 100.0 * done / total if total else 100.0
    await tasks.checkpoint({"done": done}, percent=min(percent, 99.9), message=message)


def _forget_expired_credential() -> None:
    """Once the person's token has expired, the job's events go out as the host's own, instead of
    asking auth to exchange a dead token at every report."""
    credential = context.credential.get()
    if credential is None or credential.count(".") != 2:
        return
    try:
        expires = float(jwt.get_unverified_claims(credential).get("exp") or 0)
    except JOSEError:
        expires = 0.0
    if expires and expires < time.time() + 5:
        context.credential.set(None)


async def stop_all() -> None:
    """Cancel the jobs still running (the host is stopping): each ends as cancelled."""
    for job in list(_running):
        job.cancel()
    if _running:
        await asyncio.gather(*_running, return_exceptions=True)
