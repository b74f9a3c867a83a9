"""What services and modules call: `@task`, `run_bg`, `progress`, `checkpoint`,
`resume_point`, `cancel`, `chain`, `status`, `wait`."""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from loguru import logger
from taskiq import AsyncTaskiqDecoratedTask, AsyncTaskiqTask

from webos_common.bus.identity import BusIdentity
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.tasks.broker import WebOSBroker
from webos_common.tasks.middleware import (
    CHAIN_LABEL,
    NOTIFY_LABEL,
    ContextMiddleware,
    TaskCancelled,
    announce,
    current_task_id,
)
from webos_common.tasks.status import TaskRecord, TaskState, json_safe, request_cancel, stale_after

broker = WebOSBroker()
broker.add_middlewares(ContextMiddleware())

Task = AsyncTaskiqDecoratedTask[Any, Any]


def configure(nats_url: str, *, credential_file: str | None = None, principal: str = "tasks",
              identity: BusIdentity | None = None, ca_file: str | None = None) -> WebOSBroker:
    """Point the process-wide broker at NATS, as this process's principal (before `start` or the
    worker); `identity` signs who each task acts for (and, in the worker, checks it)."""
    return broker.configure(nats_url, credential_file=credential_file, principal=principal, identity=identity,
                            ca_file=ca_file)


async def start(nats_url: str | None = None, *, credential_file: str | None = None,
                principal: str = "tasks", identity: BusIdentity | None = None, ca_file: str | None = None,
                ) -> WebOSBroker:
    """Connect this process as a task client (a service that kicks tasks)."""
    if nats_url:
        configure(nats_url, credential_file=credential_file, principal=principal, identity=identity, ca_file=ca_file)
    if not broker.started:
        await broker.startup()
    return broker


async def stop() -> None:
    if broker.started:
        await broker.shutdown()


def _store() -> Any:
    if broker.store is None:
        raise RuntimeError("tasks not started: await webos_common.tasks.start(nats_url)")
    return broker.store


# -- defining tasks -------------------------------------------------------------
def task(func: Callable[..., Any] | None = None, *, name: str | None = None, retries: int = 0,
         retry_delay: float = 1.0, timeout: float | None = None, notify: bool = False,
         rerun_safe: bool = True) -> Any:
    """Register a function as a task: `@task` or `@task(retries=3, retry_delay=0.5)`.

    A worker that dies mid-task hands it to another (within the ack wait); the task then
    runs again from the start, so its side effects must be safe to repeat. `rerun_safe=False`
    declares they are not: such a task fails cleanly ("interrupted") instead of running twice —
    unless it saved a `checkpoint(state)`: then it runs again and `resume_point()` gives it the
    last state saved, to go on from there.

    Retries back off exponentially (retry_delay, ×2, ×4, …) inside the worker.
    `notify=True`: the person who started it gets a notification when it ends
    (finished, failed with the error, or cancelled).
    """

    def register(fn: Callable[..., Any]) -> Task:
        labels: dict[str, Any] = {}
        if timeout is not None:
            labels["timeout"] = timeout
        if notify:
            labels[NOTIFY_LABEL] = "true"
        runner = _runner(fn, retries=retries, retry_delay=retry_delay, rerun_safe=rerun_safe)
        return broker.register_task(runner, task_name=name or f"{fn.__module__}:{fn.__qualname__}", **labels)

    return register(func) if func is not None else register


async def _call(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


class Interrupted(Exception):
    """A task that is not safe to re-run was redelivered after its worker vanished."""


def _runner(fn: Callable[..., Any], *, retries: int, retry_delay: float,
            rerun_safe: bool) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        task_id = current_task_id.get() or ""
        if broker.store is not None:
            record = await broker.store.get(task_id)
            if record is not None and record.cancel_requested:
                raise TaskCancelled("cancelled before it started")
            if record is not None and record.deliveries > 1 and not rerun_safe and record.checkpoint is None:
                raise Interrupted("its worker stopped mid-run and the task is not safe to re-run")
        beating = asyncio.create_task(_heartbeat(task_id), name=f"task-heartbeat:{task_id}")
        try:
            return await _attempts(fn, args, kwargs, task_id, retries=retries, retry_delay=retry_delay)
        finally:
            await cancel_and_wait(beating, what="task heartbeat")

    return run


async def _heartbeat(task_id: str) -> None:
    """The running worker's sign of life on the task record (readers show a silent one as interrupted)."""
    def beat(record: TaskRecord) -> None:
        record.heartbeat_at = datetime.now(UTC)

    while broker.store is not None:
        await asyncio.sleep(stale_after() / 3)
        try:
            await broker.store.update(task_id, beat)
        except Exception as exc:  # noqa: BLE001 - the next beat may get through
            logger.debug("task {} heartbeat failed: {}", task_id, exc)


async def _attempts(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], task_id: str, *,
                    retries: int, retry_delay: float) -> Any:
    attempt = 0
    while True:
        inner = asyncio.ensure_future(_call(fn, args, kwargs))
        broker.running[task_id] = inner
        try:
            return await inner
        except asyncio.CancelledError:
            if task_id in broker.cancelled:
                raise TaskCancelled("cancelled") from None
            raise
        except TaskCancelled:
            raise
        except Exception:
            if attempt >= retries:
                raise
            attempt += 1
            await _mark_retrying(task_id)
            await asyncio.sleep(retry_delay * 2 ** (attempt - 1))
        finally:
            broker.running.pop(task_id, None)
            broker.cancelled.discard(task_id)



async def _mark_retrying(task_id: str) -> None:
    if broker.store is None:
        return

    def retrying(record: TaskRecord) -> None:
        record.state = TaskState.retrying
        record.attempts += 1

    record = await broker.store.update(task_id, retrying)
    if record is not None:
        await announce(broker, record)


# -- inside a task ----------------------------------------------------------------
async def progress(percent: float, message: str = "") -> None:
    """Report progress of the running task: stored and emitted as `task:progress`.

    Raises TaskCancelled when the task was asked to stop.
    """
    task_id = current_task_id.get()
    if task_id is None:
        raise RuntimeError("progress() called outside a task")
    percent = max(0.0, min(100.0, float(percent)))

    def advance(record: TaskRecord) -> None:
        record.percent, record.message = percent, message

    record = await _store().update(task_id, advance)
    if record is None:
        return
    if record.cancel_requested:
        raise TaskCancelled("cancelled")
    await announce(broker, record, topic="task:progress")


async def checkpoint(state: Any, *, percent: float | None = None, message: str = "") -> None:
    """Save how far the running task got (JSON-able `state`, e.g. `{"next_row": 5000}`), with
    its progress if given. A later delivery of the task (its worker died) gets it back from
    `resume_point()`; a task not safe to re-run resumes from it instead of failing."""
    task_id = current_task_id.get()
    if task_id is None:
        raise RuntimeError("checkpoint() called outside a task")
    saved = json_safe(state)

    def keep(record: TaskRecord) -> None:
        record.checkpoint = saved
        record.heartbeat_at = datetime.now(UTC)

    await _store().update(task_id, keep)
    if percent is not None:
        await progress(percent, message)


async def resume_point() -> Any:
    """The last `checkpoint` an earlier delivery of the running task saved, or None (a first run)."""
    task_id = current_task_id.get()
    if task_id is None:
        raise RuntimeError("resume_point() called outside a task")
    record = await _store().get(task_id)
    return None if record is None else record.checkpoint


# -- from a caller ---------------------------------------------------------------
async def run_bg(func: Callable[..., Any] | Task, *args: Any, **kwargs: Any) -> AsyncTaskiqTask[Any]:
    """Fire and forget: a registered task, or any importable module-level function."""
    if isinstance(func, AsyncTaskiqDecoratedTask):
        return await func.kiq(*args, **kwargs)
    path = f"{func.__module__}:{func.__qualname__}"
    if "<locals>" in path:
        raise ValueError("run_bg needs a module-level function (the worker imports it by name)")
    return await _call_by_path.kiq(path, list(args), kwargs)


async def _call_path(path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    module, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    if isinstance(target, AsyncTaskiqDecoratedTask):
        target = target.original_func
    return await _call(target, args, kwargs)


_call_by_path: Task = task(_call_path, name="webos.run_bg")


class Chain:
    """`chain(a, b, c).kiq(x)`: b gets a's result, c gets b's."""

    def __init__(self, *tasks: Task) -> None:
        if not tasks:
            raise ValueError("chain needs at least one task")
        self.tasks = tasks

    async def kiq(self, *args: Any, **kwargs: Any) -> AsyncTaskiqTask[Any]:
        rest = ",".join(t.task_name for t in self.tasks[1:])
        return await self.tasks[0].kicker().with_labels(**{CHAIN_LABEL: rest}).kiq(*args, **kwargs)


def chain(*tasks: Task) -> Chain:
    return Chain(*tasks)


async def status(task_id: str) -> TaskRecord | None:
    result: TaskRecord | None = await _store().get(task_id)
    return result


async def cancel(task_id: str) -> TaskRecord | None:
    """Ask a task to stop: a queued one never starts, a running one is cancelled."""
    record = await request_cancel(_store(), broker.client, task_id)
    if record is not None and record.cancel_requested:
        await announce(broker, record)
    return record


async def wait(task_id: str, *, timeout: float = 30.0, poll: float = 0.05) -> TaskRecord:  # noqa: ASYNC109
    """Poll until the task has finished; raise TimeoutError otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        record = await status(task_id)
        if record is not None and record.state.finished:
            return record
        if loop.time() > deadline:
            raise TimeoutError(f"task {task_id} not finished after {timeout}s")
        await asyncio.sleep(poll)
