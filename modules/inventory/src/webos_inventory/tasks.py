"""Scheduled jobs (the module host runs each once per due time, as the system user)."""

from __future__ import annotations

from webos_common.documents import EventPublisher
from webos_common.modules.hooks import ModuleContext, ScheduledJob
from webos_inventory.service import ItemService


async def purge_old_trash(ctx: ModuleContext) -> int:
    return await ItemService(events=ctx.services.get(EventPublisher)).purge_old_trash()


purge_trash = ScheduledJob(name="purge_old_trash", func=purge_old_trash, cron="30 3 * * *")


async def record_valuation(ctx: ModuleContext) -> dict[str, float]:
    """The nightly stock valuation, kept per day in `inventory_valuations`."""
    from datetime import UTC, datetime

    value = await ItemService(events=ctx.services.get(EventPublisher)).valuation()
    day = datetime.now(UTC).date().isoformat()
    await ctx.resources.db["inventory_valuations"].replace_one({"_id": day}, {"_id": day, **value}, upsert=True)
    return value


nightly_valuation = ScheduledJob(name="nightly_valuation", func=record_valuation, cron="15 2 * * *")
