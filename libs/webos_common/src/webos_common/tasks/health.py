"""The task worker's probes: `/healthz`, `/readyz` and `/metrics` on `WEBOS_HEALTH_PORT`.

A TCP connection to NATS says nothing about the worker. These are answered from
the worker's own event loop, so a loop blocked by a task that never yields fails
the probe by its timeout; `/healthz` (liveness) is 503 when the queue receiver or
the schedule loop has ended — the worker would no longer take tasks, and a restart
is the cure; `/readyz` also wants the broker's NATS connection (an outage is waited
out, not restarted). The server is a few lines of asyncio: uvicorn would take over
the process's signal handlers, which the worker keeps for itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from loguru import logger
from prometheus_client import generate_latest

from webos_common.observability.metrics import PROCESS

_READ_LIMIT = 8192


class WorkerHealth:
    def __init__(self, jobs: Mapping[str, asyncio.Future[Any]], *, connected: Callable[[], bool]) -> None:
        self.jobs, self.connected = jobs, connected

    def liveness(self) -> dict[str, str]:
        return {name: _state(job) for name, job in self.jobs.items()}

    def readiness(self) -> dict[str, str]:
        return {**self.liveness(), "nats": "ok" if self.connected() else "failed: NATS not connected"}

    def answer(self, path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4", generate_latest(PROCESS)
        if path not in ("/healthz", "/readyz"):
            return 404, "application/json", b'{"error": {"code": "not_found", "message": "no such path"}}'
        checks = self.liveness() if path == "/healthz" else self.readiness()
        ok = all(v == "ok" for v in checks.values())
        status = ("alive" if path == "/healthz" else "ready") if ok else "not_ready"
        body = json.dumps({"status": status, "service": "tasks-worker", "checks": checks}).encode()
        return (200 if ok else 503), "application/json", body

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            status, kind, body = self.answer(path.split("?", 1)[0]) if method in ("GET", "HEAD") else \
                (405, "application/json", b'{"error": {"code": "method_not_allowed", "message": "GET only"}}')
            writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: {kind}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + (body if method != "HEAD" else b""))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, OSError):
            pass  # a probe that hung up or sent nonsense gets nothing
        finally:
            writer.close()

    async def serve(self, host: str, port: int) -> asyncio.Server:
        server = await asyncio.start_server(self.handle, host, port, limit=_READ_LIMIT)
        logger.info("task worker probes on http://{}:{} (/healthz, /readyz, /metrics)", host, port)
        return server


def _state(job: asyncio.Future[Any]) -> str:
    if not job.done():
        return "ok"
    if job.cancelled():
        return "failed: stopped"
    exc = job.exception()
    return f"failed: ended with {type(exc).__name__}: {exc}"[:300] if exc else "failed: ended"
