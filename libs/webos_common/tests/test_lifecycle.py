"""Background tasks stop within a bounded time, even when a cancel is lost."""

import asyncio
import sys

from webos_common.http.lifecycle import cancel_and_wait


def _losing_its_cancel() -> tuple[asyncio.Task[None], asyncio.Future[None]]:
    """A task like the settings service's registry follower: it awaits a reply through
    `asyncio.wait_for` (as nats-py's `request` and `KeyValue.watch` do), then waits for
    the next key for ever."""
    reply: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def follow() -> None:
        await asyncio.wait_for(reply, 30)
        await asyncio.Event().wait()  # the next registry change, which never comes

    return asyncio.create_task(follow()), reply


async def test_the_lost_cancel_that_hung_the_settings_service() -> None:
    """The reply and the cancel land in one loop iteration: Python 3.11's wait_for returns the
    reply and drops the cancel, so `task.cancel(); await task` waited for ever."""
    task, reply = _losing_its_cancel()
    await asyncio.sleep(0)  # inside wait_for
    reply.set_result(None)
    task.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    if sys.version_info < (3, 12):
        assert not task.done(), "the first cancel was swallowed"
    assert await cancel_and_wait(task, deadline=5.0) is True
    assert task.cancelled()


async def test_a_task_that_never_stops_is_left_behind_and_named(log_lines) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn-one")
    await asyncio.sleep(0)  # inside its try
    assert await cancel_and_wait([task, None], deadline=0.5, what="test shutdown") is False
    assert not task.done()
    assert any("stubborn-one" in line and "WARNING" in line for line in log_lines)
    release.set()
    await cancel_and_wait(task)


async def test_finished_and_failed_tasks_are_fine() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    assert await cancel_and_wait([failed], deadline=1.0) is True
    assert await cancel_and_wait(None) is True
