"""`webos new module X` in a throw-away checkout (the chart, the compose
file and the modules' pyproject files copied into a temporary directory;
nothing installed): the module gets its entry in the chart's values and its
compose service, the chart then lints, renders and validates with it, and
the consistency checks hold for both."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from webos_cli.main import app as cli
from webos_cli.scaffold import ScaffoldError, add_chart_entry

from .conftest import CHART, ROOT, by_kind, render
from .imports import undeclared
from .test_consistency import check_chart_matches_modules, check_compose_matches_modules


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(CHART, root / "deploy/helm/webos")
    shutil.copy(ROOT / "docker-compose.yml", root / "docker-compose.yml")
    for pyproject in ROOT.glob("modules/*/pyproject.toml"):
        (root / "modules" / pyproject.parent.name).mkdir(parents=True)
        shutil.copy(pyproject, root / "modules" / pyproject.parent.name / "pyproject.toml")
    return root


def test_a_new_module_gets_a_chart_entry_that_renders(checkout: Path) -> None:
    helm = pytest.importorskip("helm_python")
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    chart = checkout / "deploy/helm/webos"
    result = CliRunner().invoke(cli, ["new", "module", "stock_count", "--modules-dir", str(checkout / "modules"),
                                      "--no-install"])
    assert result.exit_code == 0, result.output
    assert "added module stock_count" in result.output
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert values["modules"]["stock_count"] == {"replicas": {"min": 2, "max": 6}}
    assert "# The kernel." in (chart / "values.yaml").read_text(), "comments are kept"
    check_chart_matches_modules(chart, checkout)
    report = helm.lint(str(chart), strict=True)
    assert not [m for m in report["messages"] if m["severity"] >= 2], report
    docs = render(chart=chart)
    for doc in docs:
        if not doc["apiVersion"].startswith("cert-manager.io/"):
            kubernetes_validate.validate(doc, "1.31.0", strict=True)
    assert "module-stock-count" in by_kind(docs, "NetworkPolicy")
    assert "added service module-stock_count" in result.output
    services = yaml.safe_load((checkout / "docker-compose.yml").read_text())["services"]
    check_compose_matches_modules(services, checkout)
    assert not undeclared(checkout / "modules/stock_count"), "its image would miss an import"


def test_two_new_modules_in_a_row_each_get_a_compose_service_like_the_existing_ones(checkout: Path) -> None:
    for name in ("stock_count", "stock_audit"):
        result = CliRunner().invoke(cli, ["new", "module", name, "--modules-dir", str(checkout / "modules"),
                                          "--no-install"])
        assert result.exit_code == 0, result.output
        assert f"added service module-{name}" in result.output
    compose = yaml.safe_load((checkout / "docker-compose.yml").read_text())
    check_compose_matches_modules(compose["services"], checkout)
    assert {"module-stock_count-state", "module-stock_audit-state"} <= set(compose["volumes"])
    # the CA mount is the file the stack's secrets hold, the same as the existing module's
    ca = [v for v in compose["services"]["module-tasks"]["volumes"] if v.endswith("/etc/webos/tls/ca.crt:ro")]
    assert ca and ca[0] in compose["services"]["module-stock_audit"]["volumes"]


def test_the_entry_is_added_once_and_only_to_a_trailing_modules_map(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("image: {tag: x}\nmodules: {}\n")
    assert add_chart_entry("inventory", values) is True
    assert add_chart_entry("inventory", values) is False
    assert yaml.safe_load(values.read_text())["modules"] == {"inventory": {"replicas": {"min": 2, "max": 6}}}
    values.write_text("modules: {}\nimage: {tag: x}\n")
    with pytest.raises(ScaffoldError, match="must be the last key"):
        add_chart_entry("inventory", values)


def test_the_new_module_gets_its_credential_from_its_own_environment(checkout: Path, tmp_path: Path) -> None:
    """The module installed into a virtual environment of its own (the workspace's packages
    visible through a .pth, nothing added to the workspace's): `webos deploy secrets --python`
    asks that environment what the module declares, and issues the Secret its chart entry mounts."""
    result = CliRunner().invoke(cli, ["new", "module", "stock_count", "--modules-dir", str(checkout / "modules"),
                                      "--no-install"])
    assert result.exit_code == 0, result.output
    venv = tmp_path / "venv"
    uv = str(Path(sys.executable).with_name("uv"))
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python3*/site-packages"))
    workspace_sites = [p for p in sys.path if p.endswith("site-packages")]  # with their own .pth (editables)
    (site / "_workspace.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in workspace_sites))
    subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin/python"), "--no-deps", "-e",
                    str(checkout / "modules/stock_count")], check=True, timeout=300)
    out = tmp_path / "out"
    values = checkout / "deploy/helm/webos/values.yaml"
    others = []  # the chart's other modules, declared by file: only the new one is asked of the environment
    for name in yaml.safe_load(values.read_text())["modules"]:
        if name != "stock_count":
            (tmp_path / f"{name}.json").write_text("{}")
            others += ["--declaration", f"{name}={tmp_path / f'{name}.json'}"]
    result = CliRunner().invoke(cli, ["deploy", "secrets", "--out", str(out), "-f", str(values),
                                      "--python", str(venv / "bin/python"), *others])
    assert result.exit_code == 0, result.output
    principals = json.loads((out / "credentials/principals.json").read_text())["principals"]
    assert principals["stock_count"]["kind"] == "module"
    own = subprocess.run([str(venv / "bin/python"), "-m", "webos_modulehost", "stock_count", "--declare"],
                         capture_output=True, text=True, check=True, timeout=120)
    declared = json.loads(own.stdout.strip().splitlines()[-1])
    assert declared["emits"], "the template emits its item events"
    assert principals["stock_count"]["emits"] == sorted(declared["emits"])
    secrets = {d["metadata"]["name"] for d in yaml.safe_load_all((out / "kubernetes/secrets.yaml").read_text())}
    mounted = by_kind(render(chart=checkout / "deploy/helm/webos"), "Deployment")["module-stock-count"]
    volume = {v["name"]: v for v in mounted["spec"]["template"]["spec"]["volumes"]}["credential"]
    assert volume["secret"]["secretName"] in secrets
    workspace = {ep.name for ep in importlib.metadata.entry_points(group="webos.modules")}
    assert "stock_count" not in workspace, "the workspace's environment is untouched"
