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
from pathlib import Path

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


def _stage(tmp_path: Path) -> Path:
    """Everything checkov scans, in one directory (rendered manifests, not templates)."""
    scan = tmp_path / "scan"
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


def _checkov(scan: Path, *selection: str, frameworks: tuple[str, ...] = ("kubernetes", "dockerfile", "secrets"),
             ) -> tuple[list[dict], list[str], int]:
    checkov = tool("checkov", ROOT / ".venv-tools/bin/checkov")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_VERSION_CHECK": "1", "ANSI_COLORS_DISABLED": "1"}
    proc = subprocess.run(
        [checkov, "-d", str(scan), "--framework", *frameworks, "--enable-secret-scan-all-files", "--skip-download",
         "--compact", "--quiet", "-o", "json", *selection],
        capture_output=True, text=True, timeout=240, check=False, env=env,
    )
    assert proc.stdout.strip(), proc.stderr[-3000:]
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed, passed = [], 0
    for report in reports:
        if "results" not in report:  # a framework with nothing to scan
            continue
        passed += report["summary"]["passed"]
        failed += [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
                   for c in report["results"]["failed_checks"]]
    return reports, failed, passed


def test_checkov_finds_no_failing_check(tmp_path: Path) -> None:
    reports, failed, passed = _checkov(_stage(tmp_path), "--skip-check", ",".join(skipped_checks()))
    assert not failed, "checkov failures:\n" + "\n".join(failed)
    frameworks = {r.get("check_type") for r in reports if "results" in r}
    assert {"kubernetes", "dockerfile"} <= frameworks
    assert passed > 1000, "checkov ran its checks over every manifest"


def test_checkov_finds_every_production_image_pinned_by_digest(tmp_path: Path) -> None:
    """The digest check skipped above (no digest exists before a release) holds for production values."""
    scan = tmp_path / "production"
    scan.mkdir()
    (scan / "chart-production.yaml").write_text(yaml.safe_dump_all(render(PRODUCTION)))
    _, failed, passed = _checkov(scan, "--check", "CKV_K8S_43,CKV_K8S_15", frameworks=("kubernetes",))
    assert not failed, "\n".join(failed)
    assert passed >= 2 * 10, "both checks ran on every workload and job"


def test_the_base_image_is_a_current_slim_python_by_tag() -> None:
    text = (ROOT / "docker/Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim-trixie\n" in text, "Debian 13 slim, the Python the pins are compiled for"
    assert text.count("FROM ${PYTHON_IMAGE}") == 2
