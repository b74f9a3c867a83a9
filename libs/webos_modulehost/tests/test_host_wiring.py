"""Event handlers, lifecycle hooks and scheduled jobs of a hosted module."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from webos_common.hooks import ModuleContext, ScheduledJob
from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_modulehost import create_app
from webos_modulehost.scheduler import Scheduler
from webos_modulehost.settings import ModuleHostSettings

PLUGIN = """
from webos_common.manifest import NavEntry

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


async def test_handlers_and_lifecycle_hooks(webos_env: dict[str, str], modules_dir: Path,
                                            make_module: Callable[..., str]) -> None:
    name = make_module({"plugin.py": PLUGIN})
    settings = ModuleHostSettings(module=name, service_name=name, modules_dir=str(modules_dir),
                                  registry_bucket=f"w{name}")
    app = create_app(name, settings=settings)
    app.state.resources.verifier = TestIssuer().verifier()
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
    from webos_common import db as mongo

    client = mongo.mongo_client(webos_env["WEBOS_MONGO_URL"])
    try:
        life = client[webos_env["WEBOS_MONGO_DB"]][f"{name}_life"]
        assert await life.count_documents({"event": "shutdown"}) == 1
    finally:
        await client.close()


async def test_a_due_job_runs_once_across_replicas(mongo_url: str, db_name: str) -> None:
    from webos_common import context, db

    runs: list[str | None] = []

    async def job(ctx: ModuleContext) -> None:
        user = context.current_user.get()
        runs.append(user.id if user else None)

    client = db.mongo_client(mongo_url)
    try:
        ctx = ModuleContext(name="jobs", settings=None, resources=None, services=None)
        spec = [ScheduledJob(name="tick", func=job, every=60)]
        one, two = (Scheduler("jobs", spec, client[db_name], ctx=ctx, instance=i) for i in ("a", "b"))
        now = datetime.now(UTC)
        assert await one.run_due(now) == [] and await two.run_due(now) == []  # first sight: scheduled ahead
        later = now + timedelta(seconds=61)
        results = await asyncio.gather(one.run_due(later), two.run_due(later))
        assert sorted(len(r) for r in results) == [0, 1]
        assert runs == ["system"]
    finally:
        await client.close()


def test_jobs_are_validated() -> None:
    async def job(ctx: Any) -> None:
        return None

    import pytest

    ctx = ModuleContext(name="x", settings=None, resources=None, services=None)
    with pytest.raises(ValueError, match="bad cron"):
        Scheduler("x", [ScheduledJob(name="j", func=job, cron="every day")], {"x_jobs": None}, ctx=ctx)
    with pytest.raises(ValueError, match="needs cron or every"):
        Scheduler("x", [ScheduledJob(name="j", func=job)], {"x_jobs": None}, ctx=ctx)
