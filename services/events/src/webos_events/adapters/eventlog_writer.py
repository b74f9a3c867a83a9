"""The event log's writer: events handled side by side are written together.

Each `record(event)` joins the batch being gathered and returns when the
batch is on disk (so the bus acknowledges only what is stored); one
`insert_many` per batch instead of one upsert per event. A redelivered
event hits the `_id` it already has and is skipped (unordered insert: the
rest of the batch is written)."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.errors import BulkWriteError

from webos_common.bus.envelope import EventEnvelope

DUPLICATE_KEY = 11000
MICROS = "micros"


class EventLogWriter:
    def __init__(self, collection: Any, *, max_batch: int = 256) -> None:
        self.collection = collection
        self.max_batch = max_batch
        self._docs: list[dict[str, Any]] = []
        self._done: asyncio.Future[None] | None = None
        self.batches = 0

    async def record(self, envelope: EventEnvelope) -> None:
        doc = envelope.model_dump()
        doc["_id"] = doc.pop("id")
        # BSON dates keep milliseconds: events emitted within one share a timestamp; the
        # microseconds order them (a record's history lists its create before its update)
        doc[MICROS] = int(envelope.timestamp.timestamp() * 1_000_000)
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._flush_soon)
        done = self._done
        self._docs.append(doc)
        if len(self._docs) >= self.max_batch:
            self._flush_soon()
        await asyncio.shield(done)

    def _flush_soon(self) -> None:
        if self._done is None:
            return
        docs, done = self._docs, self._done
        self._docs, self._done = [], None
        task = asyncio.ensure_future(self._write(docs, done))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _write(self, docs: list[dict[str, Any]], done: asyncio.Future[None]) -> None:
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(err.get("code") != DUPLICATE_KEY for err in exc.details.get("writeErrors", [])):
                done.set_exception(exc)
                return
        except Exception as exc:  # noqa: BLE001 - every waiting handler fails and its event is redelivered
            done.set_exception(exc)
            return
        self.batches += 1
        done.set_result(None)
