"""hadolint finds nothing in the Dockerfile; checkov finds no failing check
in the chart rendered for the default values and for three modules, the
infra manifests, the Dockerfile and the compose file, apart from the documented skip list
(checkov-skip.txt, one reason per check).

Checkov's open-source run carries no severities (those come from its SaaS),
so the bar here is stricter than "no HIGH/CRITICAL": no failure at all.
Checkov has no docker-compose framework; the compose file gets its secrets
scan here and its hardening checks in test_compose.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .conftest import PRODUCTION, ROOT, THREE_MODULES, dockerfiles, render, tool

SKIP_FILE = Path(__file__).with_name("checkov-skip.txt")


def skipped_checks() -> list[str]:
    lines = (line.split("#", 1) for line in SKIP_FILE.read_text().splitlines())
    ids = []
    for parts in lines:
        check = parts[0].strip()
        if check:
            assert len(parts) == 2 and parts[1].strip(), f"{check} needs a reason in {SKIP_FILE.name}"
            ids.append(check)
    return ids


def test_hadolint_is_clean() -> None:
    hadolint = tool("hadolint", ROOT / ".venv/bin/hadolint")
    files = dockerfiles()
    assert [f.relative_to(ROOT).as_posix() for f in files] == ["docker/Dockerfile"], "one parametrised Dockerfile"
    proc = subprocess.run([hadolint, *map(str, files)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _stage(scan: Path) -> Path:
    """Everything checkov scans, in one directory (rendered manifests, not templates)."""
    scan.mkdir()
    for name, values in (("default", None), ("three-modules", THREE_MODULES), ("production", PRODUCTION)):
        (scan / f"chart-{name}.yaml").write_text(yaml.safe_dump_all(render(values)))
    for infra in (ROOT / "deploy/infra").glob("*.yaml"):
        shutil.copy(infra, scan / f"infra-{infra.name}")
    for dockerfile in dockerfiles():
        label = dockerfile.parent.name if dockerfile.name == "Dockerfile" else dockerfile.stem
        shutil.copy(dockerfile, scan / f"{label}.Dockerfile")
    shutil.copy(ROOT / "docker-compose.yml", scan / "docker-compose.yml")
    return scan


@pytest.fixture(scope="module")
def checkov_reports(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """One checkov run over everything, every check (the skip list is applied by the tests that
    read it): checkov takes tens of seconds to start and scan."""
    checkov = tool("checkov", ROOT / ".venv-tools/bin/checkov")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_VERSION_CHECK": "1", "ANSI_COLORS_DISABLED": "1"}
    scan = _stage(tmp_path_factory.mktemp("checkov") / "scan")
    proc = subprocess.run(
        [checkov, "-d", str(scan), "--framework", "kubernetes", "dockerfile", "secrets",
         "--enable-secret-scan-all-files", "--skip-download", "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=240, check=False, env=env,
    )
    assert proc.stdout.strip(), proc.stderr[-3000:]
    reports = json.loads(proc.stdout)
    return [r for r in (reports if isinstance(reports, list) else [reports]) if "results" in r]  # else: nothing scanned


def _checks(reports: list[dict], outcome: str, keep: Callable[[dict], bool]) -> list[str]:
    return [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
            for report in reports for c in report["results"][outcome] if keep(c)]


def test_checkov_finds_no_failing_check(checkov_reports: list[dict]) -> None:
    skipped = set(skipped_checks())

    def counted(check: dict) -> bool:
        return check["check_id"] not in skipped

    failed = _checks(checkov_reports, "failed_checks", counted)
    assert not failed, "checkov failures:\n" + "\n".join(failed)
    frameworks = {r.get("check_type") for r in checkov_reports}
    assert {"kubernetes", "dockerfile"} <= frameworks
    assert len(_checks(checkov_reports, "passed_checks", counted)) > 1000, "checkov ran its checks over every manifest"


def test_checkov_finds_every_production_image_pinned_by_digest(checkov_reports: list[dict]) -> None:
    """The digest check skipped above (no digest exists before a release) holds for production values."""

    def digest_check_on_production(check: dict) -> bool:
        return check["check_id"] in {"CKV_K8S_43", "CKV_K8S_15"} and check["file_path"].endswith(
            "chart-production.yaml")

    failed = _checks(checkov_reports, "failed_checks", digest_check_on_production)
    assert not failed, "\n".join(failed)
    assert len(_checks(checkov_reports, "passed_checks", digest_check_on_production)) >= 2 * 10, \
        "both checks ran on every workload and job"


def test_the_base_image_is_a_current_slim_python_by_tag() -> None:
    text = (ROOT / "docker/Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim-trixie\n" in text, "Debian 13 slim, the Python the pins are compiled for"
    assert text.count("FROM ${PYTHON_IMAGE}") == 2
