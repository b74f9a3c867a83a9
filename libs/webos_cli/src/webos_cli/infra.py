"""The infrastructure of a stack plan: one MongoDB, NATS and S3 — or, in cluster mode,
a three-member replica set, a three-node NATS cluster, S3 and the balancer.

Cluster mode, and why so:
* NATS fsyncs before it acknowledges (`sync_interval: always`): with its default (every
  two minutes) a cluster loses acknowledged messages when one node's machine crashes
  together with a delay elsewhere (Jepsen, NATS 2.12.1). Routes are mutual TLS with the
  stack's own CA.
* The balancer (nginx) holds the single-node addresses of the gateway and of each kernel
  service, so every `WEBOS_<SERVICE>_URL` names it. Module hosts are not behind it: each
  announces itself in the module registry and the gateways balance them.
* Shell-ui replicas are sticky: a NiceGUI page lives in the memory of the replica that
  rendered it, and its socket must reach that replica (another refuses the handshake).
  The key is the client's address as the gateway forwards it (X-Forwarded-For): the
  shell's balancer sees only the gateways, so plain ip_hash would pin everything to one
  replica per gateway and split a page from its socket when they pass different gateways.
  Only the open page is tied to its replica: people's sessions (their tokens) are in NATS,
  shared by every replica (`webos_shell.sessions`), so when a replica dies or the hash
  moves someone, the next page opens on another replica still signed in.
"""

from __future__ import annotations

from typing import Any

from webos_cli.plan import StackPlan
from webos_common.infra import MongoServer, NatsCluster, NatsServer, S3Server
from webos_common.infra.balancer import NginxBalancer, Route
from webos_common.security.tls import ensure_server_tls

SYNC_INTERVAL = "always"


def servers(plan: StackPlan) -> dict[str, Any]:
    """Name → server (`start()`, `process`, `port`, `log_path`, `argv()`), in start order."""
    logs = plan.log_dir
    tls = ensure_server_tls(plan.tls_dir)
    if not plan.cluster:
        return {
            "mongodb": MongoServer(plan.data_dir / "mongo", port=plan.mongo_port, log_path=logs / "mongodb.log"),
            "nats": NatsServer(plan.data_dir / "nats", port=plan.nats_port, log_path=logs / "nats.log",
                               auth_dir=plan.credentials_dir, tls=tls),
            "s3": S3Server(logs / "s3.log", port=plan.s3_port),
        }
    found: dict[str, Any] = {}
    members = tuple(plan.mongo_ports)
    for k, port in enumerate(members, 1):
        found[f"mongodb.{k}"] = MongoServer(plan.data_dir / f"mongo.{k}", port=port, members=members,
                                            log_path=logs / f"mongodb.{k}.log")
    route_tls = ensure_server_tls(plan.tls_dir, name="nats-route", client_auth=True)
    routes = tuple(plan.route_ports)
    for k, (port, route) in enumerate(zip(plan.nats_ports, routes, strict=True), 1):
        node = NatsCluster(server_name=f"nats-{k}", port=route, routes=routes, tls=route_tls)
        found[f"nats.{k}"] = NatsServer(plan.data_dir / f"nats.{k}", port=port, log_path=logs / f"nats.{k}.log",
                                        auth_dir=plan.credentials_dir, tls=tls, cluster=node,
                                        sync_interval=SYNC_INTERVAL)
    found["s3"] = S3Server(logs / "s3.log", port=plan.s3_port)
    found["balancer"] = NginxBalancer(plan.state_dir / "balancer", balancer_routes(plan),
                                      log_path=logs / "balancer.log")
    return found


def balancer_routes(plan: StackPlan) -> list[Route]:
    """The gateways first (the public entry), then every kernel service."""
    return [Route(name, port, tuple(replicas), front=name == "gateway",
                  sticky="$http_x_forwarded_for" if name == "shell-ui" else None)
            for name, (port, replicas) in plan.balanced().items()]
