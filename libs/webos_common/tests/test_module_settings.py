"""`ModuleSettings` on a real NATS, with a stand-in settings responder: defaults
until an answer comes, a retry picks up a late service, a change event reloads,
and values that no longer fit the model keep the last good ones."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NATS
from pydantic import BaseModel, Field

from webos_common.settings.client import CHANGED_SUBJECT, MODULE_SUBJECT, ModuleSettings


class Prefs(BaseModel):
    limit: int = Field(5, ge=1, le=20)
    greeting: str = "hello"


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_late_service_changes_and_bad_values(nc: NATS) -> None:
    module = f"m{uuid.uuid4().hex[:8]}"
    stored: dict[str, Any] = {"values": {"limit": 9}, "version": 1}
    asked = []

    async def respond(msg: Any) -> None:
        asked.append(msg.subject)
        await msg.respond(json.dumps(stored).encode())

    prefs = ModuleSettings(nc, module, Prefs, timeout=0.2, retry=0.1)
    await prefs.start()  # nobody answers yet
    assert not prefs.loaded and prefs.get() == Prefs()
    sub = await nc.subscribe(f"{MODULE_SUBJECT}.{module}", cb=respond)
    try:
        await until(lambda: prefs.loaded)  # the retry found the service
        assert prefs.get() == Prefs(limit=9) and prefs.version == 1

        stored.update(values={"limit": 3, "greeting": "hi"}, version=2)
        other = {"payload": {"layer": "module", "module": "someone-else"}}
        await nc.publish(CHANGED_SUBJECT, json.dumps(other).encode())
        await nc.flush()
        await asyncio.sleep(0.2)
        assert prefs.get().limit == 9  # another module's change is not ours
        ours = {"payload": {"layer": "module", "module": module}}
        await nc.publish(CHANGED_SUBJECT, json.dumps(ours).encode())
        await until(lambda: prefs.get() == Prefs(limit=3, greeting="hi"))

        stored.update(values={"limit": 999}, version=3)  # out of range for the model
        await nc.publish(CHANGED_SUBJECT, json.dumps(ours).encode())
        await until(lambda: len(asked) >= 3)  # the retry, our change, this one
        await asyncio.sleep(0.1)
        assert prefs.get() == Prefs(limit=3, greeting="hi") and prefs.version == 2

        stored.update(error={"code": "not_found", "message": "no schema"})
        assert await prefs.refresh() is False and prefs.get().limit == 3
    finally:
        await prefs.close()
        await sub.unsubscribe()
