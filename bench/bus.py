"""Raw nats-py JetStream vs the WebOS bus, in one run against a throwaway NATS:

* raw: `js.publish_async` → durable pull consumer (plain pull requests with
  credit kept outstanding, ack);
* WebOS: `bus.emit` (schema validation, envelope, context headers, PubAck)
  → `@bus.on` handler (envelope parsed, payload validated, context restored, ack).

Each side runs at a fixed 1,000 events/s and then saturated. Latency is
end to end (send call → handler), p50/p99; throughput is events handled per
second. Both sides authenticate to NATS the same way (an nkey credential;
the server requires it). The WebOS side runs with signed identity on: each
event carries an auth-signed bus token for its person, and the consumer
requires and checks it before the handler runs (tokens come from a local
RS256 issuer standing in for auth; after the first event both ends take
them from their caches, as in production). Goals: WebOS p99 <= 2 ms at
1,000 ev/s; saturated >= 0.6x raw.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from pydantic import BaseModel

from webos_common import context
from webos_common.bus import BusSettings, EventBus, register_event
from webos_common.bus.connection import connect_options
from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.identity import AUDIENCE, BusIdentity
from webos_common.identity import User
from webos_common.infra import NatsServer
from webos_common.infra.provision import provision
from webos_common.security.credentials import CredentialStore
from webos_common.security.jwks import StaticJWKS
from webos_common.security.testing import TestIssuer
from webos_common.security.verifier import TokenVerifier

RATE = 1000
PACED = 1500  # 1.5 s at 1,000 ev/s
SATURATED = 6000
ROUNDS = 3
CONCURRENCY = 256


class Tick(BaseModel):
    n: int
    t: int  # perf_counter_ns at the send call


register_event("bench:tick", Tick)


class Run:
    def __init__(self, total: int) -> None:
        self.total = total
        self.latencies: list[float] = []
        self.done = asyncio.Event()
        self.first_sent = 0.0
        self.last_seen = 0.0
        self.cpu = time.process_time()  # this process's CPU (both sides run here; NATS does not)

    def seen(self, sent_ns: int) -> None:
        now = time.perf_counter_ns()
        self.latencies.append((now - sent_ns) / 1e6)
        self.last_seen = now / 1e9
        if len(self.latencies) >= self.total:
            self.cpu = time.process_time() - self.cpu
            self.done.set()

    def figures(self) -> dict[str, float]:
        lat = sorted(self.latencies)
        return {
            "throughput": len(lat) / max(self.last_seen - self.first_sent, 1e-9),
            "p50": statistics.median(lat),
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "cpu_us": self.cpu / len(lat) * 1e6,
        }


async def paced(total: int, send: Callable[[int], Awaitable[None]], run: Run) -> None:
    """One send every 1/RATE s; a send does not wait for the previous one's ack."""
    run.first_sent = time.perf_counter()
    start = time.perf_counter()
    inflight: set[asyncio.Task[None]] = set()
    for i in range(total):
        delay = start + i / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        job = asyncio.create_task(send(i))
        inflight.add(job)
        job.add_done_callback(inflight.discard)
    await asyncio.gather(*inflight)


async def flood(total: int, send: Callable[[int], Awaitable[None]], run: Run) -> None:
    run.first_sent = time.perf_counter()
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            await send(i)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


SEED: Path | None = None  # the bench principal's credential, set in main()
ISSUER = TestIssuer(audience=AUDIENCE)


async def connect(url: str) -> nats.NATS:
    return await nats.connect(url, **connect_options(name="bench", credential_file=SEED, principal="bench"))


async def raw_side(url: str, total: int, mode: str) -> dict[str, float]:
    nc = await connect(url)
    js = nc.jetstream()
    name = f"RAW_{mode}"
    await js.add_stream(StreamConfig(name=name, subjects=[f"raw.{mode}"], storage=StorageType.FILE))
    run = Run(total)
    await js.add_consumer(name, ConsumerConfig(durable_name="bench", ack_policy=AckPolicy.EXPLICIT,
                                               deliver_policy=DeliverPolicy.NEW))

    # plain nats-py pull: keep 64 messages of credit outstanding, top up at half
    # (nats-py's fetch(64) would hold each message until the batch filled)
    inbox = nc.new_inbox()
    credit = {"left": 0}
    request = f"$JS.API.CONSUMER.MSG.NEXT.{name}.bench"

    async def top_up() -> None:
        if credit["left"] <= 32:
            await nc.publish(request, json.dumps({"batch": 64 - credit["left"], "expires": 5 * 10**9}).encode(),
                             reply=inbox)
            credit["left"] = 64

    async def on_msg(msg) -> None:
        if not msg.data:  # status (request expired): ask again
            credit["left"] = 0
        else:
            credit["left"] -= 1
            run.seen(int(msg.data.split(b",", 1)[0]))
            await msg.ack()
        await top_up()

    await nc.subscribe(inbox, cb=on_msg)

    async def consume() -> None:
        while not run.done.is_set():
            await top_up()
            await asyncio.sleep(1)

    consumer = asyncio.create_task(consume())

    async def send(i: int) -> None:
        await js.publish_async(f"raw.{mode}", f"{time.perf_counter_ns()},{i}".encode())

    await (paced if mode.startswith("paced") else flood)(total, send, run)
    await asyncio.wait_for(run.done.wait(), 60)
    consumer.cancel()
    await nc.close()
    return run.figures()


async def webos_side(url: str, total: int, mode: str) -> dict[str, float]:
    nc = await connect(url)
    service = f"bench-{mode}"
    token = ISSUER.token("bench", roles=("user",), typ="bus", azp=service)

    async def exchange(credential: str) -> str:  # ServiceCredentials.exchange after its first call: cached
        return token

    verifier = TokenVerifier(StaticJWKS(ISSUER.jwks), issuer=ISSUER.issuer, audience=AUDIENCE, leeway=3600)
    identity = BusIdentity(exchange=exchange, verifier=verifier, required=True)
    bus = EventBus(nc, service=service, settings=BusSettings(fetch_batch=64), identity=identity)
    run = Run(total)

    @bus.on("bench:tick", name=f"tick-{mode}")
    async def handle(event: EventEnvelope) -> None:
        assert context.current_user.get() is not None  # the verified person
        run.seen(event.payload["t"])

    await bus.start()

    async def send(i: int) -> None:
        await bus.emit("bench:tick", {"n": i, "t": time.perf_counter_ns()})

    snapshot = {"user": User(id="bench", roles=("user",)).model_dump(mode="json"),
                "trace_id": context.new_trace_id(), "span_id": context.new_span_id()}
    with context.use(snapshot):
        context.credential.set("the-persons-access-token")
        await (paced if mode.startswith("paced") else flood)(total, send, run)
    await asyncio.wait_for(run.done.wait(), 60)
    await bus.close()
    await nc.close()
    return run.figures()


def line(label: str, f: dict[str, float]) -> str:
    return (f"{label:<28} {f['throughput']:>10,.0f} ev/s   p50 {f['p50']:7.3f} ms   p99 {f['p99']:7.3f} ms   "
            f"client CPU {f['cpu_us']:6.1f} us/event")


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


async def main() -> int:
    """Alternate raw and WebOS rounds and keep the medians: a shared machine's
    load spikes then hit both sides alike."""
    global SEED
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = CredentialStore(Path(tmp) / "creds")
        SEED = store.issue("bench", "operator")  # the same nkey authentication for both sides
        server = NatsServer(Path(tmp) / "nats", log_path=Path(tmp) / "nats.log", die_with_parent=True,
                            auth_dir=store.directory)
        server.start()
        try:
            client = await connect(server.url)
            await provision(client.jetstream())  # the events streams, as `webos up` does
            await client.close()
            await raw_side(server.url, 500, "warm")
            await webos_side(server.url, 500, "warm")
            for round_no in range(ROUNDS):
                for mode, total in (("paced", PACED), ("saturated", SATURATED)):
                    for side, fn in (("raw", raw_side), ("webos", webos_side)):
                        figures = await fn(server.url, total, f"{mode}{round_no}")
                        results.setdefault((side, mode), []).append(figures)
        finally:
            server.stop()
    print(f"NATS JetStream (file storage), loopback, one process; medians of {ROUNDS} alternating rounds; "
          f"{RATE} ev/s x {PACED}; saturated {SATURATED} events ({CONCURRENCY} concurrent senders)")
    med = {key: median_of(runs) for key, runs in results.items()}
    for (side, mode), figures in med.items():
        print(line(f"{side} @ {mode}", figures))
    ratio = med[("webos", "saturated")]["throughput"] / med[("raw", "saturated")]["throughput"]
    web_paced, raw_paced = med[("webos", "paced")], med[("raw", "paced")]
    cpu = med[("webos", "saturated")]["cpu_us"] / med[("raw", "saturated")]["cpu_us"]
    print(f"saturated throughput ratio webos/raw: {ratio:.2f}x (goal >= 0.6x; nkey auth on both sides, "
          f"signed identity required on the WebOS side); client CPU per event webos/raw {cpu:.2f}x "
          f"(what a loaded machine changes least)")
    print(f"at {RATE} ev/s webos/raw: p50 {web_paced['p50'] / raw_paced['p50']:.2f}x, "
          f"p99 {web_paced['p99'] / raw_paced['p99']:.2f}x; webos p99 {web_paced['p99']:.3f} ms (goal <= 2 ms)")
    encode, decode = wire_cost()
    print(f"CloudEvents binary wire form per event: encode {encode:.2f} us (headers + data), "
          f"decode {decode:.2f} us (headers + data -> envelope)")
    return 0


def wire_cost(n: int = 20_000) -> tuple[float, float]:
    """Microseconds to write one event's CloudEvents headers and body, and to read them back."""
    from webos_common.bus.wire import envelope_body, envelope_header_block, envelope_of, header_block

    user = User(id="u-1", username="ann", roles=["user"])
    envelope = EventEnvelope(topic="order:paid", payload={"order": "o-1", "total": 12.5}, source="shop",
                             trace_id="a" * 32, span_id="b" * 16, user_id=user.id)
    started = time.perf_counter()
    for _ in range(n):
        block, body = envelope_header_block(envelope, user, "header.payload.signature"), envelope_body(envelope)
    encode = (time.perf_counter() - started) / n * 1e6
    lines = block.decode().split("\r\n")[1:-2]
    headers = dict(item.split(": ", 1) for item in lines)
    assert header_block(headers) == block
    started = time.perf_counter()
    for _ in range(n):
        envelope_of(headers, body)
    return encode, (time.perf_counter() - started) / n * 1e6


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
