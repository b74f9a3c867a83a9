"""CPU per unexpected error (issue 26: ~45 ms before, goal <= 2 ms, logged once, no locals).

A service made by `create_service_app` (its logging: the stderr line and the NATS log sink, on a
real nats-server) answers a route that raises with local variables worth printing, and, as the
baseline in the same run, a route that answers at once. Both are called in-process through
httpx's ASGI transport, alternated in rounds, and timed with this process's CPU clock; the
error's cost is its CPU per request less the baseline's. The log messages on the bus are
counted: one per error.

    .venv/bin/python bench/errors.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from fastapi import APIRouter

from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.infra import NatsServer
from webos_common.infra.provision import provision
from webos_common.testing import lifespan_client

GOAL_MS = 2.0
SECRET = "sk_live_" + "x" * 40


def routes() -> APIRouter:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> dict[str, str]:
        password, card = SECRET, {"number": SECRET, "holder": "A. Person", "lines": list(range(50))}
        raise RuntimeError(f"cannot charge {len(card)} card(s) with a password of {len(password)} characters")

    @router.get("/done")
    async def done() -> dict[str, str]:
        return {}

    return router


async def timed(client: Any, path: str, n: int) -> float:
    """CPU seconds of this process per request over `n` calls of `path`, each followed by a turn of
    the event loop (a server's loop turns between requests: the log sink publishes then), and the
    sink's queue drained at the end, so the logging's work is counted too."""
    start = time.process_time()
    for _ in range(n):
        await client.get(path)
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)
    return (time.process_time() - start) / n


async def run(url: str, requests: int, rounds: int) -> None:
    app = create_service_app("errbench", settings=WebOSSettings(env="test", nats_url=url), use_mongo=False,
                             routers=[routes()])
    nc = await nats.connect(url)
    await provision(nc.jetstream())  # the streams a service waits for, as `webos up` makes them
    on_bus = {"errors": 0}

    async def seen(msg: Any) -> None:
        on_bus["errors"] += "RuntimeError" in msg.data.decode()

    await nc.subscribe("webos.logs.errbench", cb=seen)
    ok, error = [], []
    try:
        async with lifespan_client(app) as client:
            answer = await client.get("/boom")
            assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal_error", answer.text
            await timed(client, "/done", 200)  # warm both paths
            await timed(client, "/boom", 200)
            for _ in range(rounds):
                ok.append(await timed(client, "/done", requests))
                error.append(await timed(client, "/boom", requests))
            await asyncio.sleep(1.0)  # the log sink's last batch reaches the bus
    finally:
        await nc.drain()
    made = 1 + 200 + rounds * requests
    base, failed = statistics.median(ok) * 1000, statistics.median(error) * 1000
    print(f"in-process, medians of {rounds} rounds of {requests} requests each; load {os.getloadavg()[0]:.1f}")
    print(f"baseline: a route that answers at once   {base:6.3f} CPU ms/request")
    print(f"a route that raises (500, logged)        {failed:6.3f} CPU ms/request ({failed / base:.2f}x baseline)")
    verdict = "met" if failed - base <= GOAL_MS else "NOT met"
    print(f"the error's own cost                     {failed - base:6.3f} CPU ms (goal <= {GOAL_MS} ms: {verdict})")
    print(f"error lines on the bus: {on_bus['errors']} for {made} errors (goal: one each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-errors-") as tmp:
        server = NatsServer(Path(tmp) / "nats", log_path=Path(tmp) / "nats.log", die_with_parent=True)
        server.start()
        try:  # the stderr line is written, as in a service, to a file rather than this terminal
            with open(Path(tmp) / "stderr.log", "w") as sink, contextlib.redirect_stderr(sink):
                asyncio.run(run(server.url, options.requests, options.rounds))
        finally:
            server.stop()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
