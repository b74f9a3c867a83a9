"""Dead letters: taken in from the dead-letter stream, listed, replayed, discarded."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import pymongo
from loguru import logger
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError

from webos_common.bus import DeadLetter, replay_dead_letter
from webos_common.bus.pull import pull_messages
from webos_common.bus.settings import BusSettings
from webos_common.http.errors import Conflict, NotFound
from webos_events.adapters.mongo import DEAD_LETTERS, page
from webos_events.domain.models import DeadLetterRead

INTAKE = "events--dead-letters"


async def intake(db: Any, nc: NATS, settings: BusSettings) -> None:
    """Copy every dead letter into MongoDB (run as a task; one replica takes each letter)."""
    config = ConsumerConfig(durable_name=INTAKE, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
                            ack_wait=30, filter_subject="webos.dlq.>")
    with contextlib.suppress(BadRequestError):  # exists already
        await nc.jetstream().add_consumer(settings.dlq_stream, config=config)
    while True:
        try:
            async for msg in pull_messages(nc, stream=settings.dlq_stream, durable=INTAKE, batch=50):
                try:
                    await store(db, DeadLetter.model_validate_json(msg.data))
                except Exception:  # noqa: BLE001 - a broken letter must not block the rest
                    logger.exception("dead letter could not be stored")
                await msg.ack()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reconnects
            logger.warning("dead-letter intake failed: {}", exc)
            await asyncio.sleep(0.5)


async def store(db: Any, letter: DeadLetter) -> None:
    doc = letter.model_dump()
    doc["_id"] = doc.pop("id")
    doc.update(topic=letter.topic, status="pending", handled_at=None, handled_by=None)
    await db[DEAD_LETTERS].update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)


def _read(doc: dict[str, Any]) -> DeadLetterRead:
    return DeadLetterRead.model_validate({**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]})


async def search(db: Any, *, status: str | None, consumer: str | None, topic: str | None, skip: int,
                 limit: int) -> tuple[list[DeadLetterRead], int]:
    query = {k: v for k, v in (("status", status), ("consumer", consumer), ("topic", topic)) if v is not None}
    docs, total = await page(db[DEAD_LETTERS], query, sort=[("failed_at", pymongo.DESCENDING)], skip=skip,
                             limit=limit)
    return [_read(d) for d in docs], total


async def get(db: Any, letter_id: str) -> DeadLetterRead:
    doc = await db[DEAD_LETTERS].find_one({"_id": letter_id})
    if doc is None:
        raise NotFound("Dead letter not found", details={"id": letter_id})
    return _read(doc)


async def _settle(db: Any, letter_id: str, status: str, by: str) -> DeadLetterRead:
    doc = await db[DEAD_LETTERS].find_one_and_update(
        {"_id": letter_id, "status": "pending"},
        {"$set": {"status": status, "handled_at": datetime.now(UTC), "handled_by": by}},
        return_document=pymongo.ReturnDocument.AFTER,
    )
    if doc is None:
        await get(db, letter_id)  # 404 when missing
        raise Conflict("Dead letter was already replayed or discarded", details={"id": letter_id})
    return _read(doc)


async def replay(db: Any, js: JetStreamContext, letter_id: str, *, by: str) -> DeadLetterRead:
    doc = await db[DEAD_LETTERS].find_one({"_id": letter_id})
    if doc is None:
        raise NotFound("Dead letter not found", details={"id": letter_id})
    if doc.get("envelope") is None:
        raise Conflict("This dead letter has no valid envelope to replay", details={"id": letter_id})
    settled = await _settle(db, letter_id, "replayed", by)
    fields = {k: v for k, v in doc.items() if k != "_id"}
    await replay_dead_letter(js, DeadLetter.model_validate({**fields, "id": doc["_id"]}))
    return settled


async def replay_all(db: Any, js: JetStreamContext, *, consumer: str | None, by: str) -> int:
    query: dict[str, Any] = {"status": "pending", "envelope": {"$ne": None}}
    if consumer:
        query["consumer"] = consumer
    count = 0
    async for doc in db[DEAD_LETTERS].find(query, projection={"_id": 1}).sort("failed_at", pymongo.ASCENDING):
        with contextlib.suppress(Conflict, NotFound):
            await replay(db, js, doc["_id"], by=by)
            count += 1
    return count


async def discard(db: Any, letter_id: str, *, by: str) -> DeadLetterRead:
    return await _settle(db, letter_id, "discarded", by)
