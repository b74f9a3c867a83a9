"""The cluster plan without starting anything: ports from the base, one principal per
component whatever its replicas, the single-node plan unchanged, the generated configs."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import httpx

from webos_cli import infra
from webos_cli.plan import CLUSTER_SPAN, SERVICES, StackPlan
from webos_common.bus.connection import nats_servers
from webos_common.http.errors import RETRY_AFTER
from webos_common.infra import NatsServer
from webos_common.infra.balancer import NginxBalancer, Route
from webos_common.infra.process import free_port


def test_single_node_plan_is_unchanged(tmp_path: Path) -> None:
    plan = StackPlan(tmp_path, 9000)
    env = plan.shared_env()
    assert env["WEBOS_MONGO_URL"] == "mongodb://127.0.0.1:9020/?replicaSet=rs0&directConnection=true"
    assert env["WEBOS_NATS_URL"] == "nats://127.0.0.1:9021"
    assert "WEBOS_BUS_REPLICAS" not in env
    assert [(c.name, c.port) for c in plan.services()] == [(n, 9000 + o) for n, (_, o) in SERVICES.items()]
    assert plan.infra_names == {"mongodb", "nats", "s3"}


def test_cluster_replicas_take_ports_from_the_base_and_share_a_principal(tmp_path: Path) -> None:
    plan = StackPlan(tmp_path, 9000, cluster=True)
    services = {c.name: c for c in plan.services()}
    assert services["gateway.1"].port == 9030 and services["gateway.2"].port == 9060
    assert services["shell-ui.2"].port == 9065
    assert {c.principal for c in plan.services()} == set(SERVICES)
    assert {c.principal for c in plan.workers()} == {"tasks-worker"}
    ports = [c.port for c in plan.services() + plan.modules() + plan.workers()]
    ports += plan.mongo_ports + plan.nats_ports + plan.route_ports + [plan.s3_port]
    ports += [port for port, _ in plan.balanced().values()]
    assert len(ports) == len(set(ports)) and all(9000 <= p < 9000 + CLUSTER_SPAN for p in ports)
    env = plan.shared_env()
    assert env["WEBOS_AUTH_URL"] == "http://127.0.0.1:9001"  # the balancer, not a replica
    assert nats_servers(env["WEBOS_NATS_URL"]) == ["nats://127.0.0.1:9021", "nats://127.0.0.1:9024",
                                                   "nats://127.0.0.1:9025"]
    assert "w=majority" in env["WEBOS_MONGO_URL"] and "retryWrites=true" in env["WEBOS_MONGO_URL"]
    assert env["WEBOS_BUS_REPLICAS"] == "3"


def test_cluster_configs_route_over_tls_fsync_and_stick_the_shell(tmp_path: Path) -> None:
    plan = StackPlan(tmp_path, 9000, cluster=True)
    plan.credentials_dir.mkdir(parents=True)
    (plan.credentials_dir / "auth.conf").write_text("authorization {}\n")
    servers = infra.servers(plan)
    node = servers["nats.2"]
    assert isinstance(node, NatsServer)
    node.write_config()
    conf = node.config_path.read_text()
    assert '"sync_interval": "always"' in conf and '"verify": true' in conf
    assert "nats-route://127.0.0.1:9026" in conf and "nats-route://127.0.0.1:9027" not in conf  # not to itself
    balancer = servers["balancer"]
    assert isinstance(balancer, NginxBalancer)
    nginx = balancer.config()
    assert "hash $http_x_forwarded_for consistent;" in nginx.split("upstream shell-ui", 1)[1].split("}", 1)[0]
    assert "server 127.0.0.1:9030" in nginx and "listen 127.0.0.1:9000;" in nginx
    assert "Retry-After" in nginx


def test_the_balancer_answers_503_with_retry_after_when_a_replica_dies_mid_request(tmp_path: Path) -> None:
    """A replica that takes the request and dies before answering (kill -9 of a gateway): the
    balancer's own answer is the platform's 503 with Retry-After, never nginx's 502 page."""
    dying = socket.socket()
    dying.bind(("127.0.0.1", 0))
    dying.listen()

    def take_and_die() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = dying.accept()
                conn.recv(65536)
                conn.close()

    threading.Thread(target=take_and_die, daemon=True).start()
    port = free_port()
    balancer = NginxBalancer(tmp_path / "nginx", [Route("front", port, (dying.getsockname()[1],), front=True)],
                             log_path=tmp_path / "nginx.log")
    balancer.start()
    try:
        for method in ("POST", "GET"):
            answer = httpx.request(method, f"http://127.0.0.1:{port}/api/tasks/tasks", json={"title": "x"})
            assert answer.status_code == 503, (method, answer.status_code, answer.text)
            assert answer.headers["retry-after"] == str(RETRY_AFTER)
            assert answer.json()["error"]["code"] == "unavailable"
    finally:
        balancer.stop()
        dying.close()
