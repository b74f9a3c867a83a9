"""The Messenger publishes a checked `notification:send` for the right person, over the real bus."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client as NATS

from webos_common import context
from webos_common.bus import EventBus
from webos_common.bus.notify import Messenger
from webos_common.bus.topics import topic_filter
from webos_common.bus.wire import envelope_of
from webos_common.http.errors import ValidationFailed
from webos_common.identity import User


async def test_the_messenger_tells_the_current_user_or_the_one_named(nc: NATS) -> None:
    bus = EventBus(nc, service="notify-test")
    await bus.start()
    seen: list[dict] = []

    async def on_msg(msg) -> None:  # type: ignore[no-untyped-def]
        seen.append(envelope_of(msg.headers, msg.data).model_dump(mode="json"))

    await nc.subscribe(topic_filter("notification:send"), cb=on_msg)
    await nc.flush()
    messenger = Messenger(bus)
    try:
        assert await messenger.success("Nobody to tell") is None  # no user in context
        with context.use({"user": User(id="ann").model_dump(mode="json")}):
            mine = await messenger.success("Report ready", "Q3 is in your files", link="/files/q3")
            other = await messenger.error("Import failed", user_id="bob")
        with pytest.raises(ValidationFailed):
            await messenger.send("x" * 400, user_id="bob")  # title too long: nothing published
        for _ in range(100):
            if len(seen) >= 2:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
    finally:
        await bus.close()
    assert mine is not None and other is not None
    payloads = [(m["payload"]["user_id"], m["payload"]["level"], m["payload"]["title"], m["user_id"]) for m in seen]
    assert payloads == [("ann", "success", "Report ready", "ann"), ("bob", "error", "Import failed", "ann")]
