"""Benchmark: gateway rate limits counted per replica (memory) vs shared by
replicas (`WEBOS_RATE_LIMIT_STORE=nats`, a JetStream KV bucket).

Starts its own nats-server, then two `RateLimits` — two gateway replicas'
counters — and sends one user's hits to both at once (`--hits`, spread
round-robin, `--concurrency` in flight) against a limit of `--limit`/minute.
Prints what each store admitted as a multiple of the limit (goal with two
replicas: within 10 % of 1.0×; memory gives 2.0×) and the cost of a hit:
hits/s of the shared store and its ratio to memory.

Run: `.venv/bin/python bench/ratelimit.py [--limit 500 --hits 2000]`
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import nats

from webos_common.bus.streams import open_key_value
from webos_common.infra import NatsServer
from webos_common.infra.provision import rate_limit_bucket
from webos_gateway.ratelimit import RateLimits


async def _run(replicas: list[RateLimits], hits: int, concurrency: int, user: str) -> tuple[int, float]:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> bool:
        async with gate:
            return await replicas[i % len(replicas)].check_user(user) is None

    start = time.perf_counter()
    admitted = sum(await asyncio.gather(*(one(i) for i in range(hits))))
    return admitted, hits / (time.perf_counter() - start)


async def main(limit: int, hits: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = NatsServer(Path(tmp) / "nats", log_path=Path(tmp) / "nats.log", die_with_parent=True)
        server.start()
        try:
            nc = await nats.connect(server.url)
            kv = await open_key_value(nc.jetstream(), rate_limit_bucket(f"rl_{uuid.uuid4().hex[:8]}"), create=True)
            results = {}
            for store in ("memory", "nats"):
                replicas = [RateLimits(user=f"{limit}/minute", module="", shared=store == "nats") for _ in range(2)]
                for replica in replicas:
                    if store == "nats":
                        replica.share(kv)
                admitted, rate = await _run(replicas, hits, concurrency, f"user-{store}")
                results[store] = (admitted, rate)
                print(f"{store:6}: 2 replicas admitted {admitted}/{limit} = {admitted / limit:.2f}x the limit; "
                      f"{rate:,.0f} hits/s")
            await nc.close()
        finally:
            server.stop()
    print(f"shared/memory hit rate: {results['nats'][1] / results['memory'][1]:.3f}x; "
          f"shared admitted {results['nats'][0] / limit:.2f}x the limit (goal: within 10 % of 1.0x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--hits", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.limit, args.hits, args.concurrency))
