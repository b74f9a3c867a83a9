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

Each run keeps `steps`: one entry per step of its latest attempt, with its
state (running, done, failed, compensated, compensation_failed), when it
started and ended, its error and when it was undone. A person (an admin, through
the module host's saga API) may `retry` a compensated run of a saga made with
`retryable=True` (every step again, from the first, under the run's user and
trace: the attempt before is kept in `attempts`) and `compensate` a `failed`
run (the compensations that kept failing, once more). Both are idempotent: the
run is claimed atomically in its state, so a second click finds it moved on
and changes nothing; a run in another state is refused (`SagaStateError`).
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
STATES = (RUNNING, COMPLETED, COMPENSATING, COMPENSATED, FAILED)
# a step's own state within a run
STEP_RUNNING, STEP_DONE, STEP_FAILED, STEP_COMPENSATED, STEP_COMPENSATION_FAILED = (
    "running", "done", "failed", "compensated", "compensation_failed")


class SagaStateError(Exception):
    """An action a run's state does not allow (retry of a completed run, compensate of a running one)."""

    def __init__(self, run: SagaRun, action: str, why: str) -> None:
        self.run, self.action, self.state = run, action, run.state
        super().__init__(f"cannot {action} saga run {run.id}: it is {run.state} ({why})")


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
    steps: list[dict[str, Any]] = field(default_factory=list)  # this attempt's steps: state, timing, error
    attempt: int = 1
    attempts: list[dict[str, Any]] = field(default_factory=list)  # the attempts before a retry, as they ended
    actions: list[dict[str, Any]] = field(default_factory=list)  # a person's retry / compensate: who, when

    def to_doc(self) -> dict[str, Any]:
        doc = {k: v for k, v in self.__dict__.items() if k != "id"}
        return {"_id": self.id, **doc}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SagaRun:
        known = {f for f in cls.__dataclass_fields__ if f != "id"}
        values = {k: v for k, v in doc.items() if k in known}
        return cls(id=doc["_id"], **values)

    def step_entry(self, name: str) -> dict[str, Any] | None:
        """This attempt's record of step `name` (None when it did not start)."""
        return next((entry for entry in reversed(self.steps) if entry.get("name") == name), None)


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

    async def page(self, *, state: str | None = None, saga: str | None = None, skip: int = 0, limit: int = 50,
                   cursor: str | None = None, total: bool = False) -> dict[str, Any]:
        """Runs newest first (`started_at`, then `_id`), filtered by state and saga name, in the
        platform's page shape (`items`, `total`, `skip`, `limit`, `has_more`, `next_cursor`)."""
        from webos_common.documents import keyset

        order = [("started_at", -1), ("_id", -1)]
        where: dict[str, Any] = {k: v for k, v in (("state", state), ("saga", saga)) if v is not None}
        query = where if cursor is None else keyset.combine(where, keyset.after(order, keyset.decode(cursor, order)))
        rows = [row async for row in self.runs.find(query, sort=order, skip=skip, limit=limit + 1)]
        has_more = len(rows) > limit
        del rows[limit:]
        count = skip + len(rows) if not has_more and cursor is None else None
        if total and count is None:
            count = await self.runs.count_documents(where)
        return {"items": [SagaRun.from_doc(row) for row in rows], "total": count, "skip": skip, "limit": limit,
                "has_more": has_more, "next_cursor": keyset.encode(order, rows[-1]) if has_more and rows else None}

    async def claim(self, run_id: str, states: tuple[str, ...], changes: dict[str, Any], *,
                    attempt: int | None = None) -> SagaRun | None:
        """Move run `run_id` out of one of `states` (and, given, of that `attempt`) with `changes`,
        atomically: of two concurrent claims one wins. The run as changed, or None."""
        where: dict[str, Any] = {"_id": run_id, "state": {"$in": list(states)}}
        if attempt is not None:
            where["attempt"] = {"$in": [attempt, None]} if attempt == 1 else attempt  # older runs: no field
        from pymongo import ReturnDocument

        doc = await retry_transient(lambda: self.runs.find_one_and_update(
            where, {"$set": {**changes, "updated_at": datetime.now(UTC)}}, return_document=ReturnDocument.AFTER))
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
                 backoff: float = 0.5, retryable: bool = False) -> None:
        """`retryable`: a person may run a compensated run again from its first step (its actions read
        what they need from `ctx.data`, and doing them again is safe)."""
        self.name, self.store = name, store
        self.retries, self.backoff, self.retryable = retries, backoff, retryable
        self.steps: list[_Step] = []

    def step(self, name: str, action: Action, *, compensate: Action | None = None) -> Saga:
        if any(s.name == name for s in self.steps):
            raise ValueError(f"saga {self.name}: step {name!r} twice")
        self.steps.append(_Step(name, action, compensate))
        return self

    async def run(self, data: dict[str, Any], *, run_id: str | None = None) -> SagaRun:
        """Run every step; on a failure compensate and raise `SagaFailed`."""
        run = SagaRun(id=run_id or uuid.uuid4().hex, saga=self.name, data=dict(data), context=context.capture())
        return await self._forward(run, self.store or _NoStore())  # its first write stores the run

    async def _forward(self, run: SagaRun, store: Any) -> SagaRun:
        """One write before each step (it is running; the step before it done) and one at the end (the
        last step done, the run completed): nothing happens between a step's end and the next one's
        start, so writing them apart told a crash nothing more and cost a saga twice the writes."""
        ctx = SagaContext(run.id, run.data, run.results)
        for step in self.steps:
            entry: dict[str, Any] = {"name": step.name, "state": STEP_RUNNING, "started_at": datetime.now(UTC),
                                     "finished_at": None, "error": None}
            run.steps.append(entry)
            await store.save(run)
            try:
                run.results[step.name] = await step.action(ctx)
            except Exception as exc:
                run.failed_step, run.error = step.name, f"{type(exc).__name__}: {exc}"[:2000]
                entry.update(state=STEP_FAILED, finished_at=datetime.now(UTC), error=run.error)
                logger.warning("saga {} {} failed at {}: {}", self.name, run.id, step.name, run.error)
                await self._compensate(run, store)
                raise SagaFailed(run, step.name, run.error) from exc
            entry.update(state=STEP_DONE, finished_at=datetime.now(UTC))
            run.done.append(step.name)
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
            entry = run.step_entry(name)
            if error is None:
                run.done.remove(name)
                if entry is not None:
                    entry.update(state=STEP_COMPENSATED, compensated_at=datetime.now(UTC), compensation_error=None)
            else:
                run.compensation_errors[name] = error
                if entry is not None:
                    entry.update(state=STEP_COMPENSATION_FAILED, compensation_error=error)
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
            for entry in run.steps:
                if entry.get("state") == STEP_RUNNING:  # the step the crash cut short
                    entry.update(state=STEP_FAILED, finished_at=None, error=run.error)
            with context.use(run.context):
                await self._compensate(run, self.store)
        return found

    # -- a person's actions on a stored run (the module host's saga API) ---------------------------
    async def retry(self, run_id: str, *, by: str | None = None, attempt: int | None = None) -> SagaRun:
        """Run a compensated run again, every step from the first, under the user and trace that
        started it. `attempt`: the attempt the person saw; when the run has moved past it (a second
        click), nothing is done and the run is answered as it is. Answers the run as it ended
        (compensated again when a step failed again); `SagaStateError` in any other state."""
        store = self._stored()
        run = await self._get(run_id)
        if not self.retryable:
            raise SagaStateError(run, "retry", f"saga {self.name} does not support retry")
        seen = attempt if attempt is not None else run.attempt
        if run.attempt > seen and _acted(run, "retry", seen):
            return run  # already retried from what the person saw
        before = {"attempt": run.attempt, "state": run.state, "failed_step": run.failed_step, "error": run.error,
                  "steps": run.steps, "ended_at": run.updated_at}
        claimed = await store.claim(run_id, (COMPENSATED,), {
            "state": RUNNING, "attempt": run.attempt + 1, "attempts": [*run.attempts, before], "steps": [],
            "done": [], "results": {}, "failed_step": None, "error": None, "compensation_errors": {},
            "actions": [*run.actions, _action("retry", by, seen)]}, attempt=seen)
        if claimed is None:
            now = await self._get(run_id)
            if now.attempt > seen and _acted(now, "retry", seen):
                return now  # a concurrent click won
            raise SagaStateError(now, "retry", "only a compensated run can be retried")
        logger.info("saga {} {}: retried by {} (attempt {})", self.name, run_id, by, claimed.attempt)
        with context.use(claimed.context):
            try:
                return await self._forward(claimed, store)
            except SagaFailed as failed:
                return failed.run

    async def compensate(self, run_id: str, *, by: str | None = None) -> SagaRun:
        """Undo, once more, what a `failed` run could not (its compensations that kept failing), under
        the user and trace that started it. A compensated run is answered as it is (nothing to undo);
        `SagaStateError` in any other state."""
        store = self._stored()
        run = await self._get(run_id)
        if run.state == COMPENSATED:
            return run
        claimed = await store.claim(run_id, (FAILED,), {
            "state": COMPENSATING, "compensation_errors": {},
            "actions": [*run.actions, _action("compensate", by, run.attempt,
                                              errors=dict(run.compensation_errors))]})
        if claimed is None:
            now = await self._get(run_id)
            if now.state in (COMPENSATED, COMPENSATING):
                return now  # a concurrent click is (or was) at it
            raise SagaStateError(now, "compensate", "only a failed run is compensated by hand")
        logger.info("saga {} {}: compensation retried by {}", self.name, run_id, by)
        with context.use(claimed.context):
            await self._compensate(claimed, store)
        return claimed

    def _stored(self) -> SagaStore:
        if self.store is None:
            raise RuntimeError(f"saga {self.name} keeps no runs (no store)")
        return self.store

    async def _get(self, run_id: str) -> SagaRun:
        run = await self._stored().get(run_id)
        if run is None or run.saga != self.name:
            raise KeyError(run_id)
        return run


def _action(name: str, by: str | None, attempt: int, **extra: Any) -> dict[str, Any]:
    return {"action": name, "by": by, "at": datetime.now(UTC), "attempt": attempt, **extra}


def _acted(run: SagaRun, name: str, attempt: int) -> bool:
    """Whether a person already did `name` on attempt `attempt` of the run."""
    return any(a.get("action") == name and a.get("attempt") == attempt for a in run.actions)
