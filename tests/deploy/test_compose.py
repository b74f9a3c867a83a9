"""docker-compose.yml, checked on paper (no Docker engine here): valid
against the compose specification's schema, the infrastructure (NATS >= 2.11
with auth and TLS, provisioned once), hardened WebOS containers each with
its own credential, one public port, and the 3-node NATS profile. The NATS
configuration itself runs for real in test_deploy_secrets.py."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest

from .conftest import ROOT, compose

INFRA = {"mongo", "mongo-init", "nats", "nats-1", "nats-2", "nats-3", "nats-provision", "minio", "minio-init"}
MIN_NATS = (2, 11)  # per-message TTL: the module registry needs it


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return compose()["services"]


def _webos(services: dict[str, dict]) -> dict[str, dict]:
    return {n: s for n, s in services.items() if n not in INFRA}


def _target(volume: str) -> str:
    """The container path of a short-syntax volume (`source:target[:mode]`, source may be `${X:-y}`)."""
    return re.sub(r"\$\{[^}]*\}", "SRC", volume).split(":")[1]


def test_the_file_is_valid_compose() -> None:
    """The compose specification's JSON schema (vendored by check-jsonschema: offline)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema_file = files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    validator = jsonschema.Draft7Validator(json.loads(schema_file.read_text()))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose())]
    assert not errors, "\n".join(errors)


def test_nats_is_2_11_or_later_with_auth_and_tls(services) -> None:
    for name in ("nats", "nats-1", "nats-2", "nats-3"):
        image = services[name]["image"]
        version = tuple(int(x) for x in re.match(r"nats:(\d+)\.(\d+)\.\d+", image).groups())
        assert version >= MIN_NATS, f"{name}: {image}"
        assert services[name]["command"][:2] == ["--config", "/etc/nats/nats.conf"], name
        mounts = {_target(v) for v in services[name]["volumes"]}
        assert {"/etc/nats/auth.conf", "/etc/nats/tls/nats.pem", "/etc/nats/tls/nats-key.pem"} <= mounts, name
    conf = (ROOT / "deploy/compose/nats.conf").read_text()
    assert 'include "auth.conf"' in conf and "tls {" in conf
    assert re.search(r"jetstream \{[^}]*sync_interval: always", conf), "fsync before acknowledging"
    provision = services["nats-provision"]
    assert provision["entrypoint"] == ["python", "-m", "webos_common.infra.provision"]
    assert provision["environment"]["WEBOS_PRINCIPAL"] == "operator"
    assert provision["depends_on"]["nats"]["condition"] == "service_healthy"


def test_each_process_mounts_only_its_own_credential(services) -> None:
    for name, svc in _webos(services).items():
        env = svc["environment"]
        assert env["WEBOS_NATS_URL"].startswith("${WEBOS_COMPOSE_NATS_URL:-tls://"), name
        assert env["WEBOS_NATS_CA_FILE"] == "/etc/webos/tls/ca.crt", name
        credentials = [v for v in svc["volumes"] if _target(v) == "/etc/webos/credential/credential.nk"]
        assert len(credentials) == 1, name
        assert credentials[0].endswith(f"/{env['WEBOS_PRINCIPAL']}.nk:/etc/webos/credential/credential.nk:ro"), name


def test_infrastructure(services) -> None:
    assert "--replSet" in services["mongo"]["command"]
    init = " ".join(services["mongo-init"]["command"])
    assert "rs.initiate" in init and services["mongo-init"]["restart"] == "no"
    assert "--jetstream" in services["nats"]["command"]
    assert services["minio"]["command"][:2] == ["server", "/data"]
    assert "mc mb --ignore-existing" in services["minio-init"]["command"][0]
    for name in INFRA - {"mongo-init", "minio-init", "nats-provision"}:
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
        assert deps["nats-provision"]["condition"] == "service_completed_successfully", name


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
    for match in re.finditer(r"^\s*[A-Z_]*(PASSWORD|SECRET[A-Z_]*):\s*(\S+)", text, re.M):
        assert match.group(2).startswith("${"), f"{match.group(0)} must come from the environment"


def test_gateway_replicas_share_rate_limit_counters() -> None:
    """`docker compose up --scale gateway=N` keeps one limit: counters live in NATS KV."""
    assert compose()["services"]["gateway"]["environment"]["WEBOS_RATE_LIMIT_STORE"] == "nats"
