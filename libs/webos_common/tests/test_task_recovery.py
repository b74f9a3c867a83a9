"""A worker SIGKILLed mid-task: the task shows `retrying` (its heartbeat stopped), another
worker gets it without waiting for a long ack timeout and runs it once more; a task that is
not safe to re-run fails cleanly instead."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from webos_common import tasks
from webos_common.tasks import TaskState

HERE = Path(__file__).parent / "worker_tasks"
sys.path.insert(0, str(HERE))
import webos_test_rerun_tasks as jobs  # noqa: E402 - the worker subprocess imports the same module

FAST = {"WEBOS_TASKS_ACK_WAIT": "4", "WEBOS_TASKS_STALE_AFTER": "4"}


@pytest.fixture
async def client(nats_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    await tasks.start(nats_url)
    yield
    await tasks.stop()


def _worker(nats_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **FAST, "WEBOS_NATS_URL": nats_url, "WEBOS_TASK_MODULES": jobs.__name__,
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    with log.open("ab") as out:  # the child has its own copy of the file
        return subprocess.Popen([sys.executable, "-m", "webos_common.tasks.worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


async def _until(check, what: str, within: float = 60.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while loop.time() < end:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"not {what} within {within}s")


async def _killed_mid_run(nats_url: str, tmp_path: Path, kicked, *, after: str = "start",
                         arg: float = 6.0) -> tuple[str, Path, subprocess.Popen[bytes]]:
    journal = tmp_path / "journal"
    journal.touch()
    first = _worker(nats_url, tmp_path / "worker-1.log")
    try:
        handle = await kicked(str(journal), arg)
        await _until(lambda: _async(journal.read_text().count(after) == 1), f"at {after!r}")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)

    async def interrupted() -> bool:
        record = await tasks.status(handle.task_id)
        return record is not None and record.state is TaskState.retrying

    await _until(interrupted, "shown as retrying")
    return handle.task_id, journal, _worker(nats_url, tmp_path / "worker-2.log")


async def _async(value):
    return value


async def _finished(task_id: str):
    record = await tasks.status(task_id)
    return record if record is not None and record.state.finished else None


async def test_a_task_of_a_killed_worker_is_retried_and_finishes_once(client, nats_url, tmp_path) -> None:
    task_id, journal, second = await _killed_mid_run(nats_url, tmp_path, jobs.slow_safe.kiq)
    try:
        record = await _until(lambda: _finished(task_id), "finished")
    finally:
        second.terminate()
        second.wait(30)
    assert record.state is TaskState.succeeded, record
    assert record.deliveries == 2
    assert journal.read_text().split() == ["start", "start", "finish"]


async def test_a_task_not_safe_to_rerun_fails_cleanly(client, nats_url, tmp_path) -> None:
    task_id, journal, second = await _killed_mid_run(nats_url, tmp_path, jobs.slow_unsafe.kiq)
    try:
        record = await _until(lambda: _finished(task_id), "finished")
    finally:
        second.terminate()
        second.wait(30)
    assert record.state is TaskState.failed
    assert "not safe to re-run" in (record.error or "")
    assert journal.read_text().split() == ["start"]


async def test_a_task_not_safe_to_rerun_resumes_from_its_checkpoint(client, nats_url, tmp_path) -> None:
    task_id, journal, second = await _killed_mid_run(nats_url, tmp_path, jobs.stepped.kiq, after="step 1", arg=6)
    try:
        record = await _until(lambda: _finished(task_id), "finished")
    finally:
        second.terminate()
        second.wait(30)
    assert record.state is TaskState.succeeded, record
    assert record.checkpoint == {"next": 6} and record.percent == 100
    lines = journal.read_text().split()
    begins = [i for i, word in enumerate(lines) if word == "begin"]
    assert len(begins) == 2 and lines[begins[0] + 1] == "0", lines
    resumed_at = int(lines[begins[1] + 1])
    assert resumed_at >= 1, lines  # from its checkpoint, not from the start
    second_run = lines[begins[1] + 2:]
    assert second_run == [w for i in range(resumed_at, 6) for w in ("step", str(i))], lines
