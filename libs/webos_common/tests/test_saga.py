"""Sagas against a real MongoDB: steps in order, compensation in reverse on a
failure, a failing compensation is retried then reported, a crash is recovered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from webos_common import context
from webos_common.identity import User
from webos_common.processes.saga import COMPENSATED, COMPLETED, FAILED, Saga, SagaContext, SagaFailed, SagaStore


@pytest.fixture
async def store(mongo_url: str, db_name: str) -> AsyncIterator[SagaStore]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    yield SagaStore(client[db_name], collection="test_sagas")
    await client.close()


def order_saga(store: SagaStore, log: list[str], *, fail_at: str | None = None,
               refund_fails: int = 0) -> Saga:
    attempts = {"refund": 0}

    def act(name: str, result: Any = None) -> Any:
        async def action(ctx: SagaContext) -> Any:
            log.append(name)
            if name == fail_at:
                raise RuntimeError(f"{name} broke")
            return result
        return action

    async def refund(ctx: SagaContext) -> None:
        attempts["refund"] += 1
        if attempts["refund"] <= refund_fails:
            raise ConnectionError("payment service away")
        log.append(f"refund {ctx.results['charge']['payment']}")
        log.append(f"refund as {context.current_user.get().id if context.current_user.get() else None}")

    saga = Saga("order", store=store, retries=2, backoff=0.01)
    saga.step("charge", act("charge", {"payment": "p-1"}), compensate=refund)
    saga.step("reserve", act("reserve"), compensate=act("release"))
    saga.step("ship", act("ship"))
    return saga


async def test_a_saga_runs_every_step_and_records_it(store: SagaStore) -> None:
    log: list[str] = []
    run = await order_saga(store, log).run({"order": "o-1"})
    assert log == ["charge", "reserve", "ship"] and run.state == COMPLETED
    stored = await store.get(run.id)
    assert stored is not None and stored.done == ["charge", "reserve", "ship"]
    assert stored.results["charge"] == {"payment": "p-1"}


class CountedStore(SagaStore):
    """The real store, keeping what each write said of the run (its steps' states, its state)."""

    def __init__(self, store: SagaStore) -> None:
        super().__init__(store.runs.database, collection=store.runs.name)
        self.writes: list[tuple[list[tuple[str, str]], str]] = []

    async def save(self, run: Any) -> None:
        self.writes.append(([(s["name"], s["state"]) for s in run.steps], run.state))
        await super().save(run)


async def test_a_run_is_written_once_before_each_step_and_once_at_its_end(store: SagaStore) -> None:
    counted, seen = CountedStore(store), []
    saga = order_saga(counted, [])
    for step in saga.steps:  # what MongoDB holds of the run while each step runs
        async def action(ctx: SagaContext, act: Any = step.action) -> Any:
            stored = await counted.get(ctx.saga_id)
            seen.append([(s["name"], s["state"]) for s in stored.steps] if stored else None)
            return await act(ctx)
        step.action = action
    run = await saga.run({"order": "o-5"})
    assert seen == [[("charge", "running")], [("charge", "done"), ("reserve", "running")],
                    [("charge", "done"), ("reserve", "done"), ("ship", "running")]]
    assert len(counted.writes) == len(saga.steps) + 1  # not a write for each step's end besides
    assert counted.writes[-1] == ([("charge", "done"), ("reserve", "done"), ("ship", "done")], COMPLETED)
    assert (await store.get(run.id)).state == COMPLETED  # type: ignore[union-attr]


async def test_a_failure_undoes_the_done_steps_in_reverse(store: SagaStore) -> None:
    log: list[str] = []
    with context.use({"user": User(id="ann").model_dump(mode="json")}):
        with pytest.raises(SagaFailed) as failed:
            await order_saga(store, log, fail_at="ship", refund_fails=1).run({"order": "o-2"})
    assert log == ["charge", "reserve", "ship", "release", "refund p-1", "refund as ann"]
    run = failed.value.run
    assert (run.state, run.failed_step, run.done) == (COMPENSATED, "ship", [])
    assert "ship broke" in str(failed.value) and (await store.get(run.id)).state == COMPENSATED  # type: ignore[union-attr]


async def test_a_compensation_that_keeps_failing_is_reported(store: SagaStore) -> None:
    log: list[str] = []
    with pytest.raises(SagaFailed, match="NOT fully compensated") as failed:
        await order_saga(store, log, fail_at="reserve", refund_fails=99).run({"order": "o-3"})
    run = failed.value.run
    assert run.state == FAILED and run.done == ["charge"]
    assert "payment service away" in run.compensation_errors["charge"]


async def test_a_run_a_crash_left_behind_is_compensated_on_recover(store: SagaStore) -> None:
    log: list[str] = []
    saga = order_saga(store, log)
    crashed = await saga.run({"order": "o-4"})  # stands for a run cut off after two steps:
    crashed.state, crashed.done = "running", ["charge", "reserve"]
    crashed.context = {"user": User(id="bob").model_dump(mode="json")}
    await store.runs.replace_one({"_id": crashed.id}, {
        **crashed.to_doc(), "updated_at": datetime.now(UTC) - timedelta(minutes=10)})
    log.clear()
    recovered = await saga.recover(stale_after=60)
    assert [r.id for r in recovered] == [crashed.id]
    assert log == ["release", "refund p-1", "refund as bob"]  # as the user who started it
    assert (await store.get(crashed.id)).state == COMPENSATED  # type: ignore[union-attr]
    assert await saga.recover(stale_after=60) == []


async def test_two_clicks_at_once_retry_a_compensated_run_once(store: SagaStore) -> None:
    import asyncio

    from webos_common.processes.saga import SagaStateError

    log: list[str] = []
    saga = order_saga(store, log, fail_at="ship")
    with pytest.raises(SagaFailed) as failed:
        await saga.run({"order": "o-9"})
    run_id = failed.value.run.id
    with pytest.raises(SagaStateError, match="does not support retry"):
        await saga.retry(run_id, by="ann", attempt=1)
    saga.retryable = True
    log.clear()
    await asyncio.gather(saga.retry(run_id, by="ann", attempt=1),
                         saga.retry(run_id, by="ben", attempt=1))
    assert log.count("charge") == 1, log  # one click ran the steps again; the other found it moved on
    stored = await store.get(run_id)
    assert stored is not None and stored.attempt == 2 and len(stored.actions) == 1
    assert stored.state == COMPENSATED and [s["state"] for s in stored.steps] == ["compensated", "compensated",
                                                                                 "failed"]
    with pytest.raises(SagaStateError, match="it is completed"):
        await order_saga(store, log).compensate((await order_saga(store, log).run({"order": "o-10"})).id)
