"""Sagas: a workflow across modules that undoes what it did when a step fails
(seed 002 §12.3, seed 003 §8.2).

    order = Saga("order", store=SagaStore(db))          # store: MongoDB, survives a crash
    order.step("charge", payment.charge, compensate=payment.refund)
    order.step("reserve", warehouse.reserve, compensate=warehouse.release)
    order.step("ship", shipping.book)                   # the last step needs no undo

    run = await order.run({"order_id": "o-1", "amount": 30})

Each action is `async def action(ctx: SagaContext) -> Any`: `ctx.data` is the
input, `ctx.results[<step>]` what earlier steps returned. When a step raises,
the steps already done are compensated in reverse order (each compensation
retried with backoff), then `SagaFailed` is raised naming the step and the
error; `run.state` is `compensated`, or `failed` when a compensation itself
kept failing (a person must look: the run says which). Every transition is
stored before the next step starts, with the user and trace that started the
run; `recover()` (on start, or on a schedule) compensates runs that a crash
left in the middle, under that same user and trace.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from loguru import logger

from webos_common import context
from webos_common.documents.transactions import retry_transient

Action = Callable[["SagaContext"], Awaitable[Any]]

RUNNING, COMPLETED, COMPENSATING, COMPENSATED, FAILED = (
    "running", "completed", "compensating", "compensated", "failed")


class SagaFailed(Exception):
    def __init__(self, run: SagaRun, step: str, error: str) -> None:
        self.run, self.step, self.error = run, step, error
        undone = "compensated" if run.state == COMPENSATED else "NOT fully compensated"
        super().__init__(f"saga {run.saga} failed at {step!r} ({error}); {undone}")


@dataclass
class SagaContext:
    saga_id: str
    data: dict[str, Any]
    results: dict[str, Any]


@dataclass
class SagaRun:
    id: str
    saga: str
    data: dict[str, Any]
    state: str = RUNNING
    done: list[str] = field(default_factory=list)  # steps completed, in order
    results: dict[str, Any] = field(default_factory=dict)
    failed_step: str | None = None
    error: str | None = None
    compensation_errors: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_doc(self) -> dict[str, Any]:
        doc = {k: v for k, v in self.__dict__.items() if k != "id"}
        return {"_id": self.id, **doc}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SagaRun:
        values = {k: v for k, v in doc.items() if k != "_id"}
        return cls(id=doc["_id"], **values)


class SagaStore:
    """Runs in MongoDB (collection `<prefix>_sagas`), one document per run."""

    def __init__(self, db: Any, *, collection: str = "sagas") -> None:
        self.runs = db[collection]

    async def save(self, run: SagaRun) -> None:
        """Store a transition; a transient MongoDB error (a step-down, a write conflict) is retried here,
        with the library's one policy, instead of failing the saga."""
        run.updated_at = datetime.now(UTC)
        doc = run.to_doc()
        await retry_transient(lambda: self.runs.replace_one({"_id": run.id}, doc, upsert=True))

    async def get(self, run_id: str) -> SagaRun | None:
        doc = await self.runs.find_one({"_id": run_id})
        return SagaRun.from_doc(doc) if doc else None

    async def unfinished(self, saga: str, older_than: datetime) -> list[SagaRun]:
        cursor = self.runs.find({"saga": saga, "state": {"$in": [RUNNING, COMPENSATING]},
                                 "updated_at": {"$lt": older_than}})
        return [SagaRun.from_doc(doc) async for doc in cursor]


class _NoStore:
    async def save(self, run: SagaRun) -> None:
        return None


@dataclass
class _Step:
    name: str
    action: Action
    compensate: Action | None


class Saga:
    def __init__(self, name: str, *, store: SagaStore | None = None, retries: int = 3,
                 backoff: float = 0.5) -> None:
        self.name, self.store = name, store
        self.retries, self.backoff = retries, backoff
        self.steps: list[_Step] = []

    def step(self, name: str, action: Action, *, compensate: Action | None = None) -> Saga:
        if any(s.name == name for s in self.steps):
            raise ValueError(f"saga {self.name}: step {name!r} twice")
        self.steps.append(_Step(name, action, compensate))
        return self

    async def run(self, data: dict[str, Any], *, run_id: str | None = None) -> SagaRun:
        """Run every step; on a failure compensate and raise `SagaFailed`."""
        run = SagaRun(id=run_id or uuid.uuid4().hex, saga=self.name, data=dict(data), context=context.capture())
        store = self.store or _NoStore()
        await store.save(run)
        ctx = SagaContext(run.id, run.data, run.results)
        for step in self.steps:
            try:
                run.results[step.name] = await step.action(ctx)
            except Exception as exc:
                run.failed_step, run.error = step.name, f"{type(exc).__name__}: {exc}"[:2000]
                logger.warning("saga {} {} failed at {}: {}", self.name, run.id, step.name, run.error)
                await self._compensate(run, store)
                raise SagaFailed(run, step.name, run.error) from exc
            run.done.append(step.name)
            await store.save(run)
        run.state = COMPLETED
        await store.save(run)
        return run

    async def _compensate(self, run: SagaRun, store: Any) -> None:
        run.state = COMPENSATING
        await store.save(run)
        ctx = SagaContext(run.id, run.data, run.results)
        by_name = {s.name: s for s in self.steps}
        for name in reversed(list(run.done)):
            step = by_name.get(name)
            if step is None or step.compensate is None:
                run.done.remove(name)
                continue
            error = await self._undo(step, ctx)
            if error is None:
                run.done.remove(name)
            else:
                run.compensation_errors[name] = error
            await store.save(run)
        run.state = FAILED if run.compensation_errors else COMPENSATED
        await store.save(run)

    async def _undo(self, step: _Step, ctx: SagaContext) -> str | None:
        assert step.compensate is not None
        error = None
        for attempt in range(self.retries + 1):
            try:
                await step.compensate(ctx)
                return None
            except Exception as exc:  # noqa: BLE001 - retried, then recorded for a person
                error = f"{type(exc).__name__}: {exc}"[:2000]
                logger.warning("saga {}: compensating {} failed (attempt {}): {}", self.name, step.name,
                               attempt + 1, error)
                await asyncio.sleep(self.backoff * 2**attempt)
        return error

    async def recover(self, *, stale_after: float = 300.0) -> list[SagaRun]:
        """Compensate the runs of this saga that a crash left unfinished (not touched for
        `stale_after` seconds), each under the user and trace that started it."""
        if self.store is None:
            return []
        found = await self.store.unfinished(self.name, datetime.now(UTC) - timedelta(seconds=stale_after))
        for run in found:
            run.failed_step = run.failed_step or "(interrupted)"
            run.error = run.error or "the process stopped during the saga"
            with context.use(run.context):
                await self._compensate(run, self.store)
        return found
