"""Carries user and trace into task labels and restores them in the worker
(seed 002 §11.3); records each task's status and announces it on the bus."""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from loguru import logger
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult

from webos_common import context
from webos_common.bus.notify import Messenger
from webos_common.observability import metrics, tracing
from webos_common.tasks.status import TaskRecord, TaskState, json_safe

if TYPE_CHECKING:
    from webos_common.tasks.broker import WebOSBroker

CONTEXT_LABEL = "webos_context"
USER_LABEL = "webos_user_id"
CHAIN_LABEL = "webos_chain"
NOTIFY_LABEL = "webos_notify"  # `@task(notify=True)`: tell whoever started it when it ends
# a bus token (see webos_common.bus.identity) proving the person in the context label, issued to the
# principal that queued the task; the worker checks it before the task runs
IDENTITY_LABEL = "webos_identity"

current_task_id: ContextVar[str | None] = ContextVar("webos_current_task_id", default=None)
_spans: dict[str, Span] = {}  # task id -> its open "run" span, between pre_ and post_execute


class TaskCancelled(Exception):
    """Raised inside a task that was cancelled."""


async def announce(broker: WebOSBroker, record: TaskRecord, topic: str = "task:status") -> None:
    if broker.bus is None:
        return
    payload = record.model_dump(mode="json", include={"id", "name", "state", "percent", "message", "error",
                                                      "attempts", "user_id"})
    payload["task_id"] = payload.pop("id")
    try:
        await broker.bus.emit(topic, payload)
    except Exception as exc:  # noqa: BLE001 - status events are best effort; the store is the truth
        logger.warning("could not announce {} of task {}: {}", topic, record.id, exc)


class ContextMiddleware(TaskiqMiddleware):
    @property
    def webos(self) -> WebOSBroker:
        return cast("WebOSBroker", self.broker)

    async def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        """Client side: stamp the caller's context into labels; record `queued`."""
        if CONTEXT_LABEL not in message.labels:
            with tracing.maybe_span(f"{message.task_name} send", kind=SpanKind.PRODUCER):
                message.labels[CONTEXT_LABEL] = json.dumps(context.capture(), separators=(",", ":"))
        snapshot = json.loads(message.labels[CONTEXT_LABEL])
        user = snapshot.get("user") or {}
        message.labels.pop(IDENTITY_LABEL, None)
        if user.get("id"):
            token = await self._identity_token(str(user["id"]))
            if token is not None:
                message.labels[IDENTITY_LABEL] = token
            elif self.webos.identity.required:  # no proof of the person: the task runs as nobody
                snapshot["user"], user = None, {}
                message.labels[CONTEXT_LABEL] = json.dumps(snapshot, separators=(",", ":"))
        message.labels[USER_LABEL] = user.get("id") or ""
        store = self.webos.store
        if store is not None:
            record = TaskRecord(id=message.task_id, name=message.task_name, user_id=user.get("id"),
                                username=user.get("username"), trace_id=snapshot.get("trace_id"))
            await store.put(record)
            with context.use(snapshot):
                await announce(self.webos, record)
        return message

    async def _identity_token(self, user_id: str) -> str | None:
        """A bus token for the person queuing the task, when the context holds their credential."""
        current = context.current_user.get()
        if current is None or current.id != user_id:
            return None
        return await self.webos.identity.token(current)

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        """Worker side: restore the caller's context for the task's run, with the person the
        broker proved when the message arrived (`WebOSBroker.admit`), never the label's word
        alone where identity is required."""
        raw = message.labels.get(CONTEXT_LABEL)
        snapshot = json.loads(raw) if isinstance(raw, str) and raw else {}
        context.restore(snapshot)
        verified, token = self.webos.verified.pop(message.task_id, (None, None))
        if verified is not None:
            context.current_user.set(verified)
            context.credential.set(token)  # what the task's own events are signed from
        elif self.webos.identity.required:
            context.current_user.set(None)
        current_task_id.set(message.task_id)
        if tracing.active():
            _spans[message.task_id] = tracing.open_span(f"{message.task_name} run", kind=SpanKind.CONSUMER)
        store = self.webos.store
        if store is not None:
            default = TaskRecord(id=message.task_id, name=message.task_name)

            def running(record: TaskRecord) -> None:
                if record.state is not TaskState.cancelled:
                    record.state = TaskState.running
                record.started_at = record.started_at or datetime.now(UTC)
                record.heartbeat_at = datetime.now(UTC)
                record.attempts += 1
                record.deliveries += 1

            record = await store.update(message.task_id, running, default=default)
            if record is not None:
                await announce(self.webos, record)
        return message

    async def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        span = _spans.pop(message.task_id, None)
        if span is not None:
            if result.is_err and isinstance(result.error, BaseException):
                span.record_exception(result.error)
                span.set_status(Status(StatusCode.ERROR))
            span.end()
        store = self.webos.store
        if store is None:
            return
        error = result.error

        def finished(record: TaskRecord) -> None:
            record.finished_at = datetime.now(UTC)
            if isinstance(error, TaskCancelled) or record.state is TaskState.cancelled:
                record.state, record.error = TaskState.cancelled, "cancelled"
            elif result.is_err:
                record.state, record.error = TaskState.failed, f"{type(error).__name__}: {error}"[:4000]
            else:
                record.state, record.result = TaskState.succeeded, json_safe(result.return_value)
                if record.percent is not None:
                    record.percent = 100.0

        record = await store.update(message.task_id, finished)
        if record is not None:
            metrics.TASKS_FINISHED.labels(message.task_name, record.state.value).inc()
            if record.started_at and record.finished_at:
                seconds = (record.finished_at - record.started_at).total_seconds()
                metrics.TASK_SECONDS.labels(message.task_name).observe(seconds)
            await announce(self.webos, record)
            if str(message.labels.get(NOTIFY_LABEL, "")).lower() in ("1", "true"):
                await self._notify(message, record)
            if record.state is TaskState.succeeded:
                await self._next_in_chain(message, result.return_value)

    async def _notify(self, message: TaskiqMessage, record: TaskRecord) -> None:
        """A notification to the person who started the task (the bell, a toast)."""
        bus = self.webos.bus
        if bus is None or not record.user_id or record.user_id == "system":
            return
        name = message.task_name.rpartition(":")[2].replace("_", " ")
        texts = {TaskState.succeeded: (f"{name} finished", "success", ""),
                 TaskState.failed: (f"{name} failed", "error", record.error or ""),
                 TaskState.cancelled: (f"{name} was cancelled", "warning", "")}
        title, level, text = texts.get(record.state, (f"{name}: {record.state.value}", "info", ""))
        try:
            await Messenger(bus, type="task").send(
                title, text, level=level, user_id=record.user_id,  # type: ignore[arg-type]
                metadata={"task_id": message.task_id, "task": message.task_name, "state": record.state.value})
        except Exception:  # noqa: BLE001 - the task's own outcome is recorded already
            logger.exception("could not notify {} about task {}", record.user_id, message.task_id)

    async def _next_in_chain(self, message: TaskiqMessage, value: Any) -> None:
        rest = [n for n in str(message.labels.get(CHAIN_LABEL) or "").split(",") if n]
        if not rest:
            return
        task = self.broker.find_task(rest[0])
        if task is None:
            logger.error("chain: task {} is not registered", rest[0])
            return
        labels = {CHAIN_LABEL: ",".join(rest[1:]), CONTEXT_LABEL: message.labels.get(CONTEXT_LABEL, "")}
        await task.kicker().with_labels(**labels).kiq(value)
