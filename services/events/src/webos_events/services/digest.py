"""Mail digests of unread notifications, as each person's preferences ask
(core settings module `notifications`: `email_enabled`, `digest_frequency`
never / daily / weekly).

Every `events_digest_interval` seconds one replica (a claim in MongoDB) looks
for people with unread notifications that no digest has listed yet, reads
their preferences from the settings service and their address from auth
(both over NATS), and mails each one whose digest is due through the SMTP
server an admin saved in the system settings. Without one, nothing is sent.
Listed notifications are marked (`digested_at`) so no digest repeats them;
so are those of people with digests off (a digest lists what arrived while on).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from webos_common.clients.auth import contacts
from webos_common.http.errors import Unavailable
from webos_common.settings.client import user_values
from webos_events.adapters.mongo import NOTIFICATIONS
from webos_events.ports import Mail, Mailer

DIGESTS = "events_digests"
PERIODS = {"daily": timedelta(hours=23, minutes=30), "weekly": timedelta(days=6, hours=23)}
LISTED = 20  # titles in one mail


async def run_digest(db: Any, nc: NATS, mailer: Mailer | None, *, now: datetime | None = None,
                     public_url: str = "") -> int:
    """Send the digests that are due; how many mails went out."""
    if mailer is None:
        return 0
    now = now or datetime.now(UTC)
    pending = db[NOTIFICATIONS].aggregate([
        {"$match": {"read": False, "digested_at": None}},
        {"$sort": {"created_at": -1}},
        {"$group": {"_id": "$user_id", "count": {"$sum": 1}, "ids": {"$push": "$_id"},
                    "titles": {"$push": "$title"}}},
    ])
    groups = [g async for g in await pending]
    if not groups:
        return 0
    try:
        people = await contacts(nc, [g["_id"] for g in groups])
    except Unavailable as exc:
        logger.warning("digest: no addresses ({}); trying again later", exc)
        return 0
    sent = 0
    for group in groups:
        user_id, person = group["_id"], people.get(group["_id"])
        if not person or not person.get("active", True) or not person.get("email"):
            continue
        try:
            prefs = await user_values(nc, "notifications", user_id)
        except Unavailable as exc:
            logger.warning("digest: no preferences for {} ({})", user_id, exc)
            continue
        period = PERIODS.get(str(prefs.get("digest_frequency", "daily")))
        if not prefs.get("email_enabled", True) or period is None:
            # digests off: these are settled, so later rounds do not ask about them again
            await db[NOTIFICATIONS].update_many({"_id": {"$in": group["ids"]}}, {"$set": {"digested_at": now}})
            continue
        last = await db[DIGESTS].find_one({"_id": user_id})
        if last is not None and _aware(last["sent_at"]) + period > now:
            continue
        titles = "".join(f"- {t}\n" for t in group["titles"][:LISTED])
        more = f"…and {group['count'] - LISTED} more\n" if group["count"] > LISTED else ""
        link = f"\nOpen them: {public_url.rstrip('/')}/notifications\n" if public_url else ""
        await mailer.send(Mail(to=person["email"], subject=f"You have {group['count']} unread notification(s)",
                               body=f"Hello {person.get('username') or ''},\n\n{titles}{more}{link}",
                               kind="digest"))
        await db[NOTIFICATIONS].update_many({"_id": {"$in": group["ids"]}}, {"$set": {"digested_at": now}})
        await db[DIGESTS].update_one({"_id": user_id}, {"$set": {"sent_at": now, "count": group["count"]}},
                                     upsert=True)
        sent += 1
    return sent


async def _claim(db: Any, slot: str, until: datetime) -> bool:
    """One replica per interval: the first to move the lock past now."""
    now = datetime.now(UTC)
    try:
        claimed = await db[DIGESTS].find_one_and_update(
            {"_id": "__lock__", "$or": [{"until": {"$lte": now}}, {"until": None}]},
            {"$set": {"until": until, "slot": slot}}, upsert=True, return_document=ReturnDocument.AFTER)
    except DuplicateKeyError:  # another replica holds it (the upsert lost the race)
        return False
    return claimed is not None and claimed.get("slot") == slot


async def digest_loop(db: Any, nc: NATS, mailer_of: Any, *, interval: float, public_url: str = "") -> None:
    """Run forever (a task): every `interval` seconds, on one replica."""
    while True:
        await asyncio.sleep(interval)
        now = datetime.now(UTC)
        try:
            if await _claim(db, now.isoformat(), now + timedelta(seconds=interval * 0.9)):
                sent = await run_digest(db, nc, mailer_of(), now=now, public_url=public_url)
                if sent:
                    logger.info("digest: {} mail(s) sent", sent)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next round tries again
            logger.exception("digest round failed")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
