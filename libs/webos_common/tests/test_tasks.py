"""Background tasks through a real NATS JetStream work queue and an in-process worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest

from webos_common import context
from webos_common.bus.topics import topic_filter
from webos_common.bus.wire import envelope_of
from webos_common.identity import User
from webos_common.tasks import TaskState, cancel, chain, progress, run_bg, task, wait
from webos_common.tasks.worker import running_worker

CALLS: dict[str, list[object]] = {"flaky": [], "loop": [], "chain": [], "plain": []}


@task
async def whoami() -> dict[str, object]:
    user = context.current_user.get()
    return {"user": user.id if user else None, "roles": list(user.roles) if user else [],
            "trace": context.trace_id.get()}


@task
async def crunch(steps: int) -> str:
    for i in range(1, steps + 1):
        await progress(100 * i / steps, f"step {i}")
    return "done"


@task(retries=2, retry_delay=0.05)
async def flaky(key: str) -> str:
    CALLS["flaky"].append(key)
    if CALLS["flaky"].count(key) < 3:
        raise ConnectionError("not yet")
    return "third time lucky"


@task(retries=1, retry_delay=0.01)
async def broken() -> None:
    raise ValueError("always broken")


@task
async def endless(key: str) -> None:
    while True:
        CALLS["loop"].append(key)
        await asyncio.sleep(0.02)


@task
async def add_one(x: int) -> int:
    return x + 1


@task
async def double(x: int) -> int:
    CALLS["chain"].append((x * 2, context.current_user.get()))
    return x * 2


@task(notify=True)
async def monthly_report(fail: bool) -> str:
    if fail:
        raise ValueError("no data for March")
    return "ok"


def plain_function(a: int, b: int) -> int:
    CALLS["plain"].append((a, b, context.current_user.get()))
    return a * b


@pytest.fixture
async def worker(nats_url: str) -> AsyncIterator[None]:
    async with running_worker(nats_url):
        yield


ALICE = User(id="alice", username="alice", roles=("editor",))


def as_alice(trace: str | None = None):
    return context.use({"user": ALICE.model_dump(mode="json"), "trace_id": trace or context.new_trace_id(),
                        "span_id": context.new_span_id()})


async def test_the_task_runs_as_the_user_and_trace_that_started_it(worker) -> None:
    trace = context.new_trace_id()
    with as_alice(trace):
        handle = await whoami.kiq()
    record = await wait(handle.task_id)
    assert record.state is TaskState.succeeded
    assert record.result == {"user": "alice", "roles": ["editor"], "trace": trace}
    assert record.user_id == "alice" and record.trace_id == trace
    assert record.started_at and record.finished_at and record.started_at <= record.finished_at


async def test_progress_arrives_in_order_and_the_final_status_is_right(worker, nats_url) -> None:
    nc = await nats.connect(nats_url)
    seen: list[dict] = []

    async def on_msg(msg) -> None:
        seen.append(envelope_of(msg.headers, msg.data).model_dump(mode="json"))

    await nc.subscribe(topic_filter("task:*"), cb=on_msg)
    await nc.flush()  # the server knows the subscription before `queued` goes out
    try:
        with as_alice():
            handle = await crunch.kiq(4)
        record = await wait(handle.task_id)
        await asyncio.sleep(0.1)
    finally:
        await nc.close()
    mine = [e for e in seen if e["payload"]["task_id"] == handle.task_id]
    progress_events = [e["payload"] for e in mine if e["topic"] == "task:progress"]
    assert [p["percent"] for p in progress_events] == [25.0, 50.0, 75.0, 100.0]
    assert [p["message"] for p in progress_events] == ["step 1", "step 2", "step 3", "step 4"]
    assert all(e["user_id"] == "alice" for e in mine)
    states = [e["payload"]["state"] for e in mine if e["topic"] == "task:status"]
    assert states == ["queued", "running", "succeeded"]
    assert record.state is TaskState.succeeded and record.result == "done" and record.percent == 100.0


async def test_a_failing_task_is_retried_with_backoff_then_succeeds_or_fails(worker) -> None:
    handle = await flaky.kiq("k1")
    record = await wait(handle.task_id)
    assert record.state is TaskState.succeeded and record.result == "third time lucky"
    assert CALLS["flaky"].count("k1") == 3 and record.attempts == 3

    failed = await wait((await broken.kiq()).task_id)
    assert failed.state is TaskState.failed
    assert failed.error == "ValueError: always broken"


async def test_a_cancelled_task_stops(worker) -> None:
    handle = await endless.kiq("c1")
    for _ in range(200):
        if CALLS["loop"].count("c1") >= 3:
            break
        await asyncio.sleep(0.02)
    record = await cancel(handle.task_id)
    assert record is not None and record.cancel_requested
    final = await wait(handle.task_id)
    assert final.state is TaskState.cancelled
    count = CALLS["loop"].count("c1")
    await asyncio.sleep(0.2)
    assert CALLS["loop"].count("c1") == count  # it really stopped


async def test_a_queued_task_cancelled_before_it_starts_never_runs(nats_url) -> None:
    from webos_common import tasks

    await tasks.start(nats_url)
    try:
        handle = await endless.kiq("never")
        await cancel(handle.task_id)
    finally:
        await tasks.stop()
    async with running_worker(nats_url):
        record = await wait(handle.task_id)
        await asyncio.sleep(0.2)
    assert record.state is TaskState.cancelled
    assert "never" not in CALLS["loop"]


async def test_chained_tasks_pass_results_along_with_the_context(worker) -> None:
    with as_alice():
        await chain(add_one, double).kiq(3)
    for _ in range(250):
        if CALLS["chain"]:
            break
        await asyncio.sleep(0.02)
    assert CALLS["chain"] == [(8, ALICE)]


async def test_run_bg_runs_a_plain_function_in_the_worker(worker) -> None:
    with as_alice():
        handle = await run_bg(plain_function, 6, 7)
    record = await wait(handle.task_id)
    assert record.result == 42
    from_backend = await handle.wait_result(timeout=10)  # the NATS object-store result backend
    assert from_backend.return_value == 42 and not from_backend.is_err
    assert CALLS["plain"] == [(6, 7, ALICE)]


async def test_run_bg_refuses_a_local_function(worker) -> None:
    def local() -> None: ...

    with pytest.raises(ValueError, match="module-level"):
        await run_bg(local)


async def test_a_notify_task_tells_whoever_started_it_how_it_ended(worker, nats_url) -> None:
    nc = await nats.connect(nats_url)
    notes: list[dict] = []

    async def on_msg(msg) -> None:
        notes.append(envelope_of(msg.headers, msg.data).payload)

    await nc.subscribe(topic_filter("notification:send"), cb=on_msg)
    await nc.flush()
    try:
        with as_alice():
            good, bad = await monthly_report.kiq(False), await monthly_report.kiq(True)
        assert (await wait(good.task_id)).state is TaskState.succeeded
        assert (await wait(bad.task_id)).state is TaskState.failed
        for _ in range(100):
            if len(notes) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    by_task = {n["metadata"]["task_id"]: n for n in notes}
    ok, failed = by_task[good.task_id], by_task[bad.task_id]
    assert (ok["user_id"], ok["level"], ok["title"], ok["type"]) == ("alice", "success", "monthly report finished",
                                                                     "task")
    assert (failed["level"], failed["title"]) == ("error", "monthly report failed")
    assert "no data for March" in failed["message"]


async def test_a_process_that_may_not_provision_waits_for_the_results_bucket(nats_url, nc) -> None:
    """`webos up` starts the worker while NATS is being provisioned: its results backend waits
    for the bucket (its credential may not create one) and opens it once provisioning made it."""
    import uuid

    from nats.js.errors import BucketNotFoundError

    from webos_common.tasks.broker import ResultBackend

    bucket = f"results_{uuid.uuid4().hex[:8]}"
    backend = ResultBackend(servers=[nats_url], bucket_name=bucket, create=False)
    starting = asyncio.create_task(backend.startup())
    try:
        await asyncio.sleep(0.6)
        assert not starting.done()  # waiting, not failing
        js = nc.jetstream()
        with pytest.raises(BucketNotFoundError):
            await js.object_store(bucket)  # and it made nothing itself
        await js.create_object_store(bucket)  # provisioning
        await asyncio.wait_for(starting, timeout=5)
        assert backend.object_store is not None
    finally:
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        if starting.done() and not starting.cancelled() and starting.exception() is None:
            await backend.shutdown()
