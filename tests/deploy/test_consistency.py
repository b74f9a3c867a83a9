"""Every service and module in the repository has an image, a compose
service and a Kubernetes workload, started the way `make up` starts it and
with the environment variable names `make up` sets (webos_cli.plan)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from webos_cli.plan import SERVICES, StackPlan

from .conftest import ROOT, compose, entry_points, pyprojects, render

PER_PROCESS_HTTP = {"WEBOS_PORT", "WEBOS_SERVICE_NAME"}
WORKER = "worker"  # the compose/k8s name of the task worker, whatever its entry point is called


@pytest.fixture(scope="module")
def shared_names() -> set[str]:
    return set(StackPlan(state_dir=Path("/tmp/unused")).shared_env())


@pytest.fixture(scope="module")
def env_example_names() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}


@pytest.fixture(scope="module")
def k8s() -> list[dict]:
    return render("base")


def _deployments(docs: list[dict]) -> dict[str, dict]:
    return {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]
            for d in docs if d["kind"] == "Deployment"}


def _k8s_env_names(docs: list[dict], container: dict) -> set[str]:
    shared = set()
    for doc in docs:
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "webos-config":
            shared |= set(doc["data"])
        if doc["kind"] == "Secret" and doc["metadata"]["name"] == "webos-secrets":
            shared |= set(doc["stringData"])
    refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert refs == {"webos-config", "webos-secrets"}
    return shared | {e["name"] for e in container.get("env", [])}


def expected_processes() -> dict[str, tuple[str, list[str]]]:
    """workload name -> (kind, argv after `python`) for everything in the repo.

    Workers are the `webos.workers` entry points (`python -m <value>`, as
    `make up` runs them); the task worker's workload is named `worker`."""
    found: dict[str, tuple[str, list[str]]] = {}
    dirs = pyprojects("services")
    assert set(dirs) == set(SERVICES), "plan.SERVICES names every service directory"
    for name, (package, _) in SERVICES.items():
        found[name] = ("service", ["-m", package])
    for data in pyprojects("modules").values():
        for module in data.get("project", {}).get("entry-points", {}).get("webos.modules", {}):
            found[f"module-{module}"] = ("module", ["-m", "webos_modulehost", module])
    workers = entry_points("webos.workers")
    assert workers, "the task worker is declared in group webos.workers"
    for name, value in workers.items():
        found[WORKER if name == "tasks" else name] = ("worker", ["-m", value])
    return found


def test_every_service_has_a_dockerfile_running_its_package() -> None:
    for name, (package, offset) in SERVICES.items():
        text = (ROOT / "services" / name / "Dockerfile").read_text()
        assert f'CMD ["python", "-m", "{package}"]' in text, name
        assert f"WEBOS_PORT={8700 + offset}" in text and "USER 10001" in text and "HEALTHCHECK" in text, name
        assert text.count("FROM ") >= 2, f"{name}: multi-stage"
    host = (ROOT / "docker/modulehost.Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "webos_modulehost"]' in host
    for module in pyprojects("modules"):
        assert "COPY modules/ modules/" in host, module
    for kind in ("services", "libs"):  # the packages declaring workers run from the module-host image
        for name, data in pyprojects(kind).items():
            if data.get("project", {}).get("entry-points", {}).get("webos.workers"):
                assert f"COPY {kind}/{name}/ {kind}/{name}/" in host and f" {kind}/{name} " in host, name


def test_every_process_is_in_compose_with_make_up_names(shared_names, env_example_names) -> None:
    services = compose()["services"]
    for name, (kind, argv) in expected_processes().items():
        assert name in services, f"compose has no service {name}"
        svc = services[name]
        env = set(svc["environment"])
        assert shared_names <= env, f"{name}: missing {shared_names - env}"
        if kind != "worker":
            assert PER_PROCESS_HTTP <= env, name
        if kind == "service":
            assert svc["build"]["dockerfile"] == f"services/{name}/Dockerfile"
        elif kind == "module":
            assert svc["command"] == argv[-1:], name
            port = svc["environment"]["WEBOS_PORT"]
            assert svc["environment"]["WEBOS_ADVERTISE_URL"] == f"http://{name}:{port}", "announces a reachable URL"
        else:
            assert svc["entrypoint"] == ["python", *argv], name
    # .env.example is every process's env_file; its loopback addresses are replaced for the network
    addresses = {n for n in env_example_names if n.endswith("_URL")}
    for name in expected_processes():
        assert addresses <= set(services[name]["environment"]), f"{name} would dial 127.0.0.1"


def test_every_process_is_a_k8s_workload_with_make_up_names(k8s, shared_names, env_example_names) -> None:
    deployments = _deployments(k8s)
    for name, (kind, argv) in expected_processes().items():
        assert name in deployments, f"k8s has no Deployment {name}"
        container = deployments[name]
        names = _k8s_env_names(k8s, container)
        assert shared_names <= names, f"{name}: missing {shared_names - names}"
        webos_names = {n for n in env_example_names if n.startswith("WEBOS_")}  # MINIO_* configure MinIO only
        assert webos_names <= names, f"{name}: missing {webos_names - names}"
        if kind != "worker":
            assert PER_PROCESS_HTTP <= names, name
        if kind == "module":
            assert container["args"] == argv[-1:], name
        elif kind == "worker":
            assert container["command"] == ["python", *argv], name


def test_ports_match_the_launcher_layout(k8s) -> None:
    deployments = _deployments(k8s)
    services = compose()["services"]
    for name, (_, offset) in SERVICES.items():
        port = 8700 + offset
        assert deployments[name]["ports"][0]["containerPort"] == port, name
        assert services[name]["environment"]["WEBOS_PORT"] == str(port), name
        url_key = "WEBOS_SHELL_URL" if name == "shell-ui" else f"WEBOS_{name.upper()}_URL"
        assert services["gateway"]["environment"][url_key] == f"http://{name}:{port}"


def test_infra_values_files_parse() -> None:
    for path in (ROOT / "k8s/infra").glob("*.yaml"):
        assert list(yaml.safe_load_all(path.read_text())), path.name
