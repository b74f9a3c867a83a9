"""Helpers for tests of the bus: wait for a condition, read dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
from nats.aio.client import Client as NATS

from webos_common.bus.deadletter import DeadLetter
from webos_common.bus.settings import BusSettings


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a test helper
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def dead_letters(nc: NATS, consumer_prefix: str, *, stream: str = BusSettings().dlq_stream,
                       ) -> list[tuple[int, DeadLetter]]:
    """The dead letters of consumers whose name starts with `consumer_prefix` (taken: acked)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe("webos.dlq.>", stream=stream)
    found: list[tuple[int, DeadLetter]] = []
    try:
        while True:
            for msg in await sub.fetch(100, timeout=0.3):
                if not msg.subject.startswith(f"webos.dlq.{consumer_prefix}"):
                    continue
                found.append((msg.metadata.sequence.stream, DeadLetter.model_validate_json(msg.data)))
                await msg.ack()
    except (TimeoutError, nats.errors.TimeoutError):
        pass
    await sub.unsubscribe()
    return found


def provision_now(url: str) -> None:
    """Every stream and bucket of the platform on the NATS server at `url` (a test's own)."""
    from webos_common.infra.provision import provision

    async def provisioned() -> None:
        client = await nats.connect(url)
        try:
            await provision(client.jetstream())
        finally:
            await client.close()

    asyncio.run(provisioned())
