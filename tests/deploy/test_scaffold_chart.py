"""`webos new module X` in a throw-away checkout (the chart, the compose
file and the modules' pyproject files copied into a temporary directory;
nothing installed): the module gets its entry in the chart's values and its
compose service, the chart then lints, renders and validates with it, and
the consistency checks hold for both."""

from __future__ import annotations

import shutil
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


def test_the_entry_is_added_once_and_only_to_a_trailing_modules_map(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("image: {tag: x}\nmodules: {}\n")
    assert add_chart_entry("inventory", values) is True
    assert add_chart_entry("inventory", values) is False
    assert yaml.safe_load(values.read_text())["modules"] == {"inventory": {"replicas": {"min": 2, "max": 6}}}
    values.write_text("modules: {}\nimage: {tag: x}\n")
    with pytest.raises(ScaffoldError, match="must be the last key"):
        add_chart_entry("inventory", values)
