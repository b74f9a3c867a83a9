"""Every service and module in the repository has an image, a compose
service and a chart workload, started the way `make up` starts it and with
the environment variable names `make up` sets (webos_cli.plan)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from webos_cli.plan import SERVICES, StackPlan

from .conftest import CHART, ROOT, by_kind, compose, entry_points, pyprojects, render

PER_PROCESS_HTTP = {"WEBOS_PORT", "WEBOS_SERVICE_NAME"}
IDENTITY = {"WEBOS_CREDENTIAL_FILE", "WEBOS_PRINCIPAL"}
WORKER = "worker"  # the compose/k8s name of the task worker, whatever its entry point is called


@pytest.fixture(scope="module")
def shared_names() -> set[str]:
    return set(StackPlan(state_dir=Path("/tmp/unused")).shared_env())


@pytest.fixture(scope="module")
def env_example_names() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}


SECRET_NAMES = {"WEBOS_MONGO_URL", "WEBOS_KEY_ENCRYPTION_SECRET", "WEBOS_ADMIN_PASSWORD", "WEBOS_SETTINGS_MASTER_KEY",
                "WEBOS_STORAGE_SHARE_SECRET", "WEBOS_SHELL_STORAGE_SECRET"}  # from secrets.existingSecret


def expected_processes(modules_root: Path = ROOT) -> dict[str, tuple[str, list[str]]]:
    """workload name -> (kind, argv after `python`) for everything in the repo.

    Workers are the `webos.workers` entry points (`python -m <value>`, as
    `make up` runs them); the task worker's workload is named `worker`."""
    found: dict[str, tuple[str, list[str]]] = {}
    dirs = pyprojects("services")
    assert set(dirs) == set(SERVICES), "plan.SERVICES names every service directory"
    for name, (package, _) in SERVICES.items():
        found[name] = ("service", ["-m", package])
    for module in module_names(modules_root):
        found[f"module-{module}"] = ("module", ["-m", "webos_modulehost", module])
    workers = entry_points("webos.workers")
    assert workers, "the task worker is declared in group webos.workers"
    for name, value in workers.items():
        found[WORKER if name == "tasks" else name] = ("worker", ["-m", value])
    return found


def module_names(root: Path = ROOT) -> list[str]:
    import tomllib

    names = []
    for path in sorted((root / "modules").glob("*/pyproject.toml")):
        names += list(tomllib.loads(path.read_text()).get("project", {}).get("entry-points", {})
                      .get("webos.modules", {}))
    return names


def check_chart_matches_modules(chart: Path, root: Path) -> None:
    """The consistency the scaffold test re-runs in a throw-away checkout: every module of
    `root/modules` has a values entry, a workload that runs it and a migrations Job."""
    values = yaml.safe_load((chart / "values.yaml").read_text())
    modules = module_names(root)
    assert sorted(values["modules"]) == sorted(modules), "deploy/helm/webos/values.yaml lists every module"
    docs = render(chart=chart)
    deployments = by_kind(docs, "Deployment")
    jobs = by_kind(docs, "Job")
    for module in modules:
        name = "module-" + module.replace("_", "-")
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [module]
        assert container["image"] == f"webos/{name}:0.1.0"
        assert f"webos-migrate-{module.replace('_', '-')}" in jobs


def test_every_process_runs_from_the_one_dockerfile() -> None:
    text = (ROOT / "docker/Dockerfile").read_text()
    assert 'ENTRYPOINT ["/usr/local/bin/webos-main"]' in text and "USER 10001" in text and "HEALTHCHECK" in text
    assert text.count("FROM ") >= 2, "multi-stage"
    services = compose()["services"]
    for name, (package, offset) in SERVICES.items():
        args = services[name]["build"]["args"]
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"
        assert args == {"PACKAGE": f"services/{name}", "MAIN": package, "PORT": str(8700 + offset)}, name
    check_compose_matches_modules(services, ROOT)


def check_compose_matches_modules(services: dict[str, dict], root: Path) -> None:
    """Every module of `root/modules` has its compose service, image and credential, and is in
    the worker's image (re-run by the scaffold test in a throw-away checkout)."""
    for module in module_names(root):
        svc = services[f"module-{module}"]
        assert svc["build"]["args"] == {"PACKAGE": f"modules/{module}", "MAIN": "webos_modulehost", "PORT": "8710"}
        assert svc["command"] == [module] and svc["environment"]["WEBOS_PRINCIPAL"] == module
    worker = services[WORKER]["build"]["args"]["PACKAGE"].split()
    assert sorted(worker) == sorted(["services/events", *[f"modules/{m}" for m in module_names(root)]]), (
        "the worker imports every module")


def test_every_process_is_in_compose_with_make_up_names(shared_names, env_example_names) -> None:
    services = compose()["services"]
    for name, (kind, argv) in expected_processes().items():
        assert name in services, f"compose has no service {name}"
        svc = services[name]
        env = set(svc["environment"])
        assert shared_names <= env, f"{name}: missing {shared_names - env}"
        assert IDENTITY <= env, name
        if kind != "worker":
            assert PER_PROCESS_HTTP <= env, name
        if kind == "module":
            assert svc["command"] == argv[-1:], name
            port = svc["environment"]["WEBOS_PORT"]
            assert svc["environment"]["WEBOS_ADVERTISE_URL"] == f"http://{name}:{port}", "announces a reachable URL"
        elif kind == "worker":
            assert svc["entrypoint"] == ["python", *argv], name
    addresses = {n for n in env_example_names if n.endswith("_URL")}
    for name in expected_processes():
        assert addresses <= set(services[name]["environment"]), f"{name} would dial 127.0.0.1"


def test_every_process_is_a_chart_workload_with_make_up_names(shared_names, env_example_names) -> None:
    docs = render()
    config = set(by_kind(docs, "ConfigMap")["webos-config"]["data"])
    deployments = by_kind(docs, "Deployment")
    for name, (kind, argv) in expected_processes().items():
        assert name in deployments, f"the chart has no Deployment {name}"
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        names = config | SECRET_NAMES | {e["name"] for e in container.get("env", [])}
        assert shared_names <= names, f"{name}: missing {shared_names - names}"
        webos_names = {n for n in env_example_names if n.startswith("WEBOS_") and not n.startswith("WEBOS_S3_")}
        assert webos_names <= names, f"{name}: missing {webos_names - names}"
        assert IDENTITY <= names, name
        if kind != "worker":
            assert PER_PROCESS_HTTP <= names, name
        if kind == "module":
            assert container["args"] == argv[-1:], name
        elif kind == "worker":
            assert container["command"] == ["python", *argv], name


def test_the_chart_lists_every_module() -> None:
    check_chart_matches_modules(CHART, ROOT)


def test_ports_match_the_launcher_layout() -> None:
    deployments = by_kind(render(), "Deployment")
    services = compose()["services"]
    for name, (_, offset) in SERVICES.items():
        port = 8700 + offset
        assert deployments[name]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == port
        assert services[name]["environment"]["WEBOS_PORT"] == str(port), name
        url_key = "WEBOS_SHELL_URL" if name == "shell-ui" else f"WEBOS_{name.upper()}_URL"
        assert services["gateway"]["environment"][url_key] == f"http://{name}:{port}"


def test_infra_values_files_parse() -> None:
    for path in (ROOT / "deploy/infra").glob("*.yaml"):
        assert list(yaml.safe_load_all(path.read_text())), path.name


def test_the_nats_chart_values_pin_2_11_with_auth_and_tls() -> None:
    values = yaml.safe_load((ROOT / "deploy/infra/nats-values.yaml").read_text())
    major, minor = (int(x) for x in values["container"]["image"]["tag"].split(".")[:2])
    assert (major, minor) >= (2, 11), "per-message TTL (the module registry) needs NATS 2.11"
    assert values["config"]["nats"]["tls"] == {"enabled": True, "secretName": "nats-server-tls"}
    certificate = by_kind(render(), "Certificate")["nats-server-tls"]
    assert certificate["spec"]["secretName"] == "nats-server-tls" and certificate["metadata"]["namespace"] == "nats"
    assert values["config"]["merge"]["$include"] == "../webos-auth/auth.conf"
    # the cluster mode's durability: three nodes, fsync before acknowledging, every stream R3
    assert values["config"]["cluster"]["replicas"] == 3
    assert values["config"]["jetstream"]["merge"]["sync_interval"] == "always"
    assert values["podDisruptionBudget"]["enabled"] is True
    config = by_kind(render(), "ConfigMap")["webos-config"]["data"]
    assert config["WEBOS_BUS_REPLICAS"] == "3"
    volumes = [p["value"] for p in values["podTemplate"]["patch"]]
    assert {"name": "webos-auth", "secret": {"secretName": "webos-nats-auth"}} in volumes


def test_every_process_has_the_principal_make_up_gives_it() -> None:
    """The credential a workload mounts is the one `webos up` (and `webos deploy secrets`) issues."""
    plan = StackPlan(state_dir=Path("/tmp/unused"))
    expected = {}
    for component in plan.services() + plan.modules() + plan.workers():
        kind, _, name = component.name.partition(":")
        workload = {"module": f"module-{name}", "worker": WORKER if name == "tasks" else name}.get(kind, component.name)
        expected[workload] = component.principal
    services = compose()["services"]
    deployments = by_kind(render(), "Deployment")
    for workload, principal in expected.items():
        assert services[workload]["environment"]["WEBOS_PRINCIPAL"] == principal, workload
        container = deployments[workload]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["WEBOS_PRINCIPAL"] == principal, workload
