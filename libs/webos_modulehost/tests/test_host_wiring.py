"""Event handlers, lifecycle hooks and scheduled jobs of a hosted module."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats

from webos_common.modules.hooks import ModuleContext, ScheduledJob
from webos_common.processes.schedule import DueTimes, Scheduler
from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_modulehost import create_app, scheduled
from webos_modulehost.settings import ModuleHostSettings

PLUGIN = """
from webos_common.modules.manifest import NavEntry

async def on_ping(event):
    await STATE["db"]["NAME_pings"].insert_one({"n": event.payload["n"], "user": event.user_id})

STATE = {}

def webos_register_event_handlers():
    return {"ping:sent": on_ping}

async def _started(ctx):
    STATE["db"] = ctx.resources.db
    await ctx.resources.db["NAME_life"].insert_one({"event": "startup", "module": ctx.name})

def webos_startup(ctx):
    return _started(ctx)

async def webos_shutdown(ctx):
    await ctx.resources.db["NAME_life"].insert_one({"event": "shutdown"})
"""


def _hosted(name: str, modules_dir: Path) -> Any:
    """The module host's app for module `name` of `modules_dir`, verifying the test issuer's tokens."""
    settings = ModuleHostSettings(module=name, service_name=name, modules_dir=str(modules_dir),
                                  registry_bucket=f"w{name}")
    app = create_app(name, settings=settings)
    app.state.resources.verifier = TestIssuer().verifier()
    return app


async def test_handlers_and_lifecycle_hooks(webos_env: dict[str, str], modules_dir: Path,
                                            make_module: Callable[..., str]) -> None:
    name = make_module({"plugin.py": PLUGIN})
    app = _hosted(name, modules_dir)
    async with lifespan_client(app):
        db = app.state.resources.db
        assert await db[f"{name}_life"].find_one({"event": "startup"}) is not None
        assert app.state.manifest.events_consumed == ["ping:sent"]
        await app.state.resources.bus.emit("ping:sent", {"n": 7})
        for _ in range(300):
            if await db[f"{name}_pings"].count_documents({}):
                break
            await asyncio.sleep(0.1)
        assert (await db[f"{name}_pings"].find_one())["n"] == 7
    from webos_common.documents import db as mongo

    client = mongo.mongo_client(webos_env["WEBOS_MONGO_URL"])
    try:
        life = client[webos_env["WEBOS_MONGO_DB"]][f"{name}_life"]
        assert await life.count_documents({"event": "shutdown"}) == 1
    finally:
        await client.close()


AT_ONCE_PLUGIN = """
import asyncio

from webos_common.modules.hooks import at_once

SEEN = {"running": 0, "met": 0, "lone": 0}
BOTH = asyncio.Event()


@at_once(4)
async def on_ping(event):
    SEEN["running"] += 1
    if SEEN["running"] >= 2:
        BOTH.set()
    try:
        await asyncio.wait_for(BOTH.wait(), 10)  # one at a time: the first would wait alone
        SEEN["met"] += 1
    except TimeoutError:
        SEEN["lone"] += 1
    finally:
        SEEN["running"] -= 1


def webos_register_event_handlers():
    return {"ping:sent": on_ping}
"""


async def test_a_handler_marked_at_once_handles_events_side_by_side(
        webos_env: dict[str, str], modules_dir: Path, make_module: Callable[..., str]) -> None:
    """`at_once(4)`: the host's consumer hands the handler several events at once (each waits here
    until another is running beside it); unmarked, a handler gets one event at a time."""
    name = make_module({"plugin.py": AT_ONCE_PLUGIN})
    app = _hosted(name, modules_dir)
    async with lifespan_client(app):
        seen = importlib.import_module(f"webos_{name}.plugin").SEEN
        for n in range(2):
            await app.state.resources.bus.emit("ping:sent", {"n": n})
        for _ in range(300):
            if seen["met"] + seen["lone"] >= 2:
                break
            await asyncio.sleep(0.1)
        assert seen == {"running": 0, "met": 2, "lone": 0}, seen


async def test_a_due_job_runs_once_across_replicas(nats_url: str) -> None:
    """Two hosts of one module, each with its own NATS connection, race for one due run."""
    from webos_common import context

    runs: list[str | None] = []

    async def job(ctx: ModuleContext) -> None:
        user = context.current_user.get()
        runs.append(user.id if user else None)

    module = f"jobs{uuid.uuid4().hex[:8]}"
    ctx = ModuleContext(name=module, settings=None, resources=None, services=None)
    spec = [ScheduledJob(name="tick", func=job, every=60)]
    clients = [await nats.connect(nats_url) for _ in range(2)]
    try:
        one, two = (Scheduler(DueTimes(nc.jetstream()), scheduled.schedules(module, spec, ctx)) for nc in clients)
        now = datetime.now(UTC)
        assert await one.run_due(now) == [] and await two.run_due(now) == []  # first sight: scheduled ahead
        later = now + timedelta(seconds=61)
        results = await asyncio.gather(one.run_due(later), two.run_due(later))
        assert sorted(len(r) for r in results) == [0, 1]
        assert runs == ["system"]
        restarted = Scheduler(DueTimes(clients[0].jetstream()), scheduled.schedules(module, spec, ctx))
        assert await restarted.run_due(later) == []  # the due time outlives the replica: not run again
        assert await restarted.run_due(later + timedelta(seconds=120)) == ["tick"]  # a missed run runs once
        assert await two.run_due(later + timedelta(seconds=121)) == []
        assert runs == ["system", "system"]
    finally:
        for nc in clients:
            await nc.close()


def test_jobs_are_validated() -> None:
    async def job(ctx: Any) -> None:
        return None

    import pytest

    ctx = ModuleContext(name="x", settings=None, resources=None, services=None)
    with pytest.raises(ValueError, match="'j': invalid cron"):
        scheduled.schedules("x", [ScheduledJob(name="j", func=job, cron="every day")], ctx)
    with pytest.raises(ValueError, match="'j' needs cron or every"):
        scheduled.schedules("x", [ScheduledJob(name="j", func=job)], ctx)
