"""What durability costs on the bus: JetStream publish throughput (saturated, every publish
acknowledged) on a three-node cluster with R3 streams and `sync_interval: always` (what
`webos up --cluster` and the chart run: NATS fsyncs before it acknowledges) against one
node with an R1 stream and NATS's default lazy fsync (single-node `make up`), in one run
on this machine. Both sides authenticate with an nkey over TLS, as the platform does.

Goal (issue #27): the cluster ≥ 0.3× the single node. Rounds alternate sides so that a
shared machine's load spikes hit both alike; medians are printed.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nats
from nats.js.api import StorageType, StreamConfig

from webos_common.bus.connection import connect_options
from webos_common.infra import NatsServer
from webos_common.infra.nats import NatsCluster
from webos_common.infra.process import free_port
from webos_common.security.credentials import CredentialStore
from webos_common.security.tls import ensure_server_tls

MESSAGES = 20_000
ROUNDS = 3
PAYLOAD = b'{"id":"6651f0c2a1b2c3d4e5f60718","title":"a task","version":3}' * 4  # ~250 bytes, an event


async def publish_rate(url: str, *, seed: Path, ca: Path, replicas: int, name: str) -> float:
    """Messages per second, each acknowledged by JetStream (stored on `replicas` nodes)."""
    nc = await nats.connect(url, **connect_options(name="bench", credential_file=seed, principal="bench",
                                                   ca_file=ca))
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name=name, subjects=[f"bench.{name}"], storage=StorageType.FILE,
                                         num_replicas=replicas))
        started = time.perf_counter()  # nats-py bounds the acknowledgements awaited at once (4,000)
        acks = [await js.publish_async(f"bench.{name}", PAYLOAD, wait_stall=30) for _ in range(MESSAGES)]
        await asyncio.gather(*acks)
        rate = MESSAGES / (time.perf_counter() - started)
        await js.delete_stream(name)
        return rate
    finally:
        await nc.close()


def start_nodes(tmp: Path, store: CredentialStore) -> tuple[NatsServer, list[NatsServer]]:
    tls = ensure_server_tls(tmp / "tls")
    single = NatsServer(tmp / "single", log_path=tmp / "single.log", die_with_parent=True,
                        auth_dir=store.directory, tls=tls)
    route_tls = ensure_server_tls(tmp / "tls", name="nats-route", client_auth=True)
    routes = tuple(free_port() for _ in range(3))
    nodes = [NatsServer(tmp / f"node{k}", log_path=tmp / f"node{k}.log", die_with_parent=True,
                        auth_dir=store.directory, tls=tls, sync_interval="always",
                        cluster=NatsCluster(server_name=f"nats-{k}", port=route, routes=routes, tls=route_tls))
             for k, route in enumerate(routes, 1)]
    for server in (single, *nodes):
        server.start()
    return single, nodes


async def wait_for_cluster(url: str, seed: Path, ca: Path) -> None:
    """JetStream answers on the cluster once its meta leader is elected."""
    deadline = time.monotonic() + 60
    while True:
        try:
            await publish_rate_probe(url, seed, ca)
            return
        except Exception:  # not elected yet
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def publish_rate_probe(url: str, seed: Path, ca: Path) -> None:
    nc = await nats.connect(url, **connect_options(name="bench", credential_file=seed, principal="bench", ca_file=ca))
    try:
        await nc.jetstream().account_info()
    finally:
        await nc.close()


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = CredentialStore(tmp / "creds")
        seed = store.issue("bench", "operator")
        single, nodes = start_nodes(tmp, store)
        ca = tmp / "tls" / "ca.pem"
        try:
            await wait_for_cluster(nodes[0].url, seed, ca)
            singles, clusters = [], []
            for n in range(ROUNDS):
                singles.append(await publish_rate(single.url, seed=seed, ca=ca, replicas=1, name=f"S{n}"))
                clusters.append(await publish_rate(nodes[0].url, seed=seed, ca=ca, replicas=3, name=f"C{n}"))
        finally:
            for server in (single, *nodes):
                server.stop()
    one, three = statistics.median(singles), statistics.median(clusters)
    for label, median, rounds in (("single node, R1, lazy fsync:", one, singles),
                                  ("3 nodes, R3, sync_interval always:", three, clusters)):
        print(f"{label:36} {median:9.0f} msg/s  (rounds: {', '.join(f'{r:.0f}' for r in rounds)})")
    ratio = three / one
    print(f"ratio {ratio:.2f}x (goal >= 0.3x): {'met' if ratio >= 0.3 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
