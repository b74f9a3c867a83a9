"""docker-compose.yml, checked on paper (no Docker engine here): the
infrastructure the issue names, hardened WebOS containers, one public port,
and the 3-node NATS profile."""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT, compose

INFRA = {"mongo", "mongo-init", "nats", "nats-1", "nats-2", "nats-3", "minio", "minio-init"}


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return compose()["services"]


def _webos(services: dict[str, dict]) -> dict[str, dict]:
    return {n: s for n, s in services.items() if n not in INFRA}


def test_infrastructure(services) -> None:
    assert "--replSet" in services["mongo"]["command"]
    init = " ".join(services["mongo-init"]["command"])
    assert "rs.initiate" in init and services["mongo-init"]["restart"] == "no"
    assert "--jetstream" in services["nats"]["command"]
    assert services["minio"]["command"][:2] == ["server", "/data"]
    assert "mc mb --ignore-existing" in services["minio-init"]["command"][0]
    for name in INFRA - {"mongo-init", "minio-init"}:
        assert services[name]["healthcheck"]["test"], name


def test_webos_containers_are_hardened(services) -> None:
    webos = _webos(services)
    assert len(webos) >= 8, "six services, a module host and the worker"
    for name, svc in webos.items():
        assert svc["user"] == "10001:10001", name
        assert svc["read_only"] is True and "/tmp" in svc["tmpfs"], name
        assert svc["cap_drop"] == ["ALL"] and "no-new-privileges:true" in svc["security_opt"], name
        assert svc["deploy"]["resources"]["limits"], name
        assert any(v.endswith(":/var/lib/webos") for v in svc["volumes"]), name
        deps = svc["depends_on"]
        assert deps["mongo-init"]["condition"] == "service_completed_successfully", name
        assert deps["nats"]["condition"] == "service_healthy", name
        assert deps["minio-init"]["condition"] == "service_completed_successfully", name


def test_only_the_gateway_publishes_a_port(services) -> None:
    published = {n for n, s in services.items() if s.get("ports")}
    assert published == {"gateway"}


def test_nats_cluster_profile_has_three_routed_jetstream_nodes(services) -> None:
    nodes = {n: s for n, s in services.items() if s.get("profiles") == ["nats-cluster"]}
    assert set(nodes) == {"nats-1", "nats-2", "nats-3"}
    for name, node in nodes.items():
        args = node["command"]
        assert "--jetstream" in args and args[args.index("--cluster_name") + 1] == "webos", name
        routes = set(args[args.index("--routes") + 1].split(","))
        assert routes == {f"nats://{peer}:6222" for peer in nodes if peer != name}, name


def test_configuration_comes_from_env_example(services) -> None:
    for name, svc in _webos(services).items():
        files = [f["path"] for f in svc["env_file"]]
        assert files == [".env.example", ".env"], name
        assert svc["env_file"][1]["required"] is False, name
    assert (ROOT / ".env.example").is_file()


def test_no_secret_value_is_written_into_the_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for match in re.finditer(r"(PASSWORD|SECRET[A-Z_]*):\s*(\S+)", text):
        assert match.group(2).startswith("${"), f"{match.group(0)} must come from the environment"
