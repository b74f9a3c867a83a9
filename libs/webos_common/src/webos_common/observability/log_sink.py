"""A loguru sink that publishes every log record as JSON to NATS subject
`webos.logs.<service>`, where the shell's live log viewer subscribes.

Logging never waits for NATS: the sink only puts the record on a bounded
queue (from any thread); one task of the event loop publishes from it. When
the queue is full, or NATS is not connected, records are dropped and
counted (`dropped`) — the stderr sink still has them.

    sink = await install_log_sink(nc, "storage", level="INFO")
    ...
    await sink.close()   # before draining the NATS connection

Every service made by `create_service_app` installs one itself, on its NATS
connection: a service adds none of its own (a second sink sent each line twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS

from webos_common.http.lifecycle import cancel_and_wait
from webos_common.observability.logging import not_access

SUBJECT_PREFIX = "webos.logs"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def subject_for(service: str) -> str:
    """`webos.logs.<service>`, the service name made a single subject token."""
    return f"{SUBJECT_PREFIX}.{_UNSAFE.sub('_', service) or '_'}"


def record_to_json(record: Any) -> bytes:
    """The fields the log viewer shows, from a loguru record."""
    extra = record["extra"]
    exc = record["exception"]
    doc = {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "message": record["message"],
        "service": extra.get("service"),
        "trace_id": extra.get("trace_id"),
        "request_id": extra.get("request_id"),
        "user_id": extra.get("user_id"),
        "logger": record["name"],
        "function": record["function"],
        "line": record["line"],
        "exception": f"{exc.type.__name__}: {exc.value}" if exc and exc.type else None,
    }
    return json.dumps(doc, default=str, separators=(",", ":")).encode()


class NatsLogSink:
    """Callable loguru sink; `start()` on the event loop that owns the NATS client."""

    def __init__(self, nc: NATS, service: str, *, max_queue: int = 1000) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.nc = nc
        self.subject = subject_for(service)
        self.dropped = 0
        self.published = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=max_queue)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._handler_id: int | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def __call__(self, message: Any) -> None:
        data = record_to_json(message.record)
        if self._loop is None or self._loop.is_closed():
            self.dropped += 1
        elif threading.get_ident() == self._thread:
            self._offer(data)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._offer, data)

    def _offer(self, data: bytes) -> None:
        try:
            self._queue.put_nowait(data)
            self._idle.clear()
        except asyncio.QueueFull:
            self.dropped += 1

    def start(self, level: str | int = "INFO") -> None:
        """Bind to the running loop, start publishing, and add the sink to loguru."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._task = self._loop.create_task(self._publish(), name=f"log-sink {self.subject}")
        # no locals (diagnose), and no access lines: one per request would double the bus traffic of a busy host
        self._handler_id = logger.add(self, level=level, format="{message}", catch=True, diagnose=False,
                                      backtrace=False, filter=not_access)

    async def _publish(self) -> None:
        while True:
            data = await self._queue.get()
            if not self.nc.is_connected:
                self.dropped += 1
            else:
                try:
                    await self.nc.publish(self.subject, data)
                    self.published += 1
                except Exception:  # noqa: BLE001 - a log line is not worth a crash
                    self.dropped += 1
            if self._queue.empty():
                self._idle.set()

    async def close(self, grace: float = 1.0) -> None:
        """Remove the sink, publish what is queued (for at most `grace` seconds), stop."""
        if self._handler_id is not None:
            with contextlib.suppress(ValueError):
                logger.remove(self._handler_id)
            self._handler_id = None
        if self._task is None:
            return
        if self.nc.is_connected and not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)
        await cancel_and_wait(self._task, what="log sink")
        self._task = None


async def install_log_sink(nc: NATS, service: str, *, level: str | int = "INFO",
                           max_queue: int = 1000) -> NatsLogSink:
    """Create, start and add a `NatsLogSink` for this service (call it after `configure_logging`)."""
    sink = NatsLogSink(nc, service, max_queue=max_queue)
    sink.start(level)
    return sink
