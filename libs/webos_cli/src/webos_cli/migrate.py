"""`webos migrate [--module M] [--dry-run]`: each installed module's pending migrations,
applied by the module's own package (`webos-module-host <name> --migrate`, run as a command:
the CLI never imports a module), against the MongoDB given or the local stack's."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import typer

from webos_cli.ops import BasePort, MongoDb, MongoUrl, StateDir
from webos_cli.plan import StackPlan


def migrate(module: list[str] = typer.Option([], "--module", "-m", help="Only these modules (repeatable)."),
            dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would run."),
            state_dir: Path = StateDir, base_port: int = BasePort, mongo_url: str | None = MongoUrl,
            db_name: str = MongoDb) -> None:
    """Apply every installed module's pending migrations (in name order, once, under a lock)."""
    installed = sorted({ep.name for ep in entry_points(group="webos.modules")})
    unknown = sorted(set(module) - set(installed))
    if unknown:
        raise typer.BadParameter(f"not installed: {', '.join(unknown)}", param_hint="--module")
    plan = StackPlan(state_dir=state_dir.resolve(), base_port=base_port)
    env = {**os.environ, "WEBOS_MONGO_URL": mongo_url or plan.shared_env()["WEBOS_MONGO_URL"],
           "WEBOS_MONGO_DB": db_name}
    failed = False
    for name in module or installed:
        argv = [sys.executable, "-m", "webos_modulehost", name, "--migrate", *(["--dry-run"] if dry_run else [])]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
        typer.echo((done.stdout.strip() or done.stderr.strip()).splitlines()[-1] if (done.stdout or done.stderr)
                   else f"module {name}: no output")
        failed |= done.returncode != 0
    if failed:
        raise typer.Exit(1)
