"""`webos new module <name>`: the generated module's own tests pass as generated."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from webos_cli.main import app as cli
from webos_cli.scaffold import ScaffoldError, create_module


@pytest.mark.integration  # the generated tests start MongoDB and NATS (in a pytest run of their own)
def test_generated_module_tests_pass(tmp_path: Path) -> None:
    modules = tmp_path / "modules"
    result = CliRunner().invoke(cli, ["new", "module", "field_notes", "--modules-dir", str(modules),
                                      "--no-install"])
    assert result.exit_code == 0, result.output
    root = modules / "field_notes"
    package = root / "src" / "webos_field_notes"
    for name in ("models.py", "router.py", "router_public.py", "admin.py", "tasks.py", "plugin.py",
                 "service.py", "migrations/0001_initial.py"):
        assert (package / name).is_file(), name
    assert not list(root.rglob("*.tmpl")) and "{{" not in (package / "models.py").read_text()
    assert 'field_notes = "webos_field_notes.plugin"' in (root / "pyproject.toml").read_text()
    assert "class FieldNotesSettings" in (package / "models.py").read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBOS_")}
    run = subprocess.run([sys.executable, "-m", "pytest", str(root), "-q", "-p", "no:randomly"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "6 passed" in run.stdout
    project = Path(__file__).resolve().parents[3] / "pyproject.toml"  # `make lint`: strict types everywhere
    cache = tmp_path / "mypy_cache"  # a copy of `make lint`'s cache, if it ran: the kernel's types are
    if (project.parent / ".mypy_cache").is_dir():  # read from it (~1 s of CPU, not ~20 s)
        shutil.copytree(project.parent / ".mypy_cache", cache)
    typed = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(project), "--cache-dir", str(cache),
                            str(root / "src")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert typed.returncode == 0, typed.stdout[-4000:]


def test_bad_names_and_existing_folders_are_refused(tmp_path: Path) -> None:
    for bad in ("Tasks", "9lives", "with-dash", "x", "template"):
        with pytest.raises(ScaffoldError, match="invalid module name"):
            create_module(bad, modules_dir=tmp_path)
    create_module("fine", modules_dir=tmp_path)
    with pytest.raises(ScaffoldError, match="already exists"):
        create_module("fine", modules_dir=tmp_path)
    result = CliRunner().invoke(cli, ["new", "module", "Bad", "--modules-dir", str(tmp_path), "--no-install"])
    assert result.exit_code == 2 and "invalid module name" in result.output
