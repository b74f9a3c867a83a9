"""`webos`: up, down, status, logs; the operator's backup, restore, modules, events."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer

from webos_cli import ops, scaffold, stack
from webos_cli.plan import StackPlan

app = typer.Typer(help="Run WebOS on this machine.", no_args_is_help=True, add_completion=False)
new_app = typer.Typer(help="Create things from templates.", no_args_is_help=True)
app.add_typer(new_app, name="new")
app.add_typer(ops.modules_app, name="modules")
app.add_typer(ops.events_app, name="events")
app.command("backup")(ops.backup_command)
app.command("restore")(ops.restore_command)

StateDir = typer.Option(Path(os.environ.get("WEBOS_STATE_DIR", ".webos")), "--state-dir",
                        help="Where data, logs and PIDs live.")
BasePort = typer.Option(int(os.environ.get("WEBOS_BASE_PORT", "8700")), "--base-port",
                        help="First port; every component's port derives from it.")


def _plan(state_dir: Path, base_port: int) -> StackPlan:
    return StackPlan(state_dir=state_dir.resolve(), base_port=base_port)


@app.command()
def up(state_dir: Path = StateDir, base_port: int = BasePort,
       timeout: float = typer.Option(60.0, help="Seconds to wait for every component to be ready.")) -> None:
    """Start MongoDB, NATS, S3 and every service and module; wait until all are ready."""
    started = time.monotonic()
    plan = _plan(state_dir, base_port)
    try:
        records = stack.up(plan, timeout=timeout)
    except stack.StackError as exc:
        typer.echo(f"webos up failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    for rec in records.values():
        where = rec.url or (f"127.0.0.1:{rec.port}" if rec.port else "-")
        typer.echo(f"  {rec.name:<18} pid {rec.pid:<8} {where}")
    typer.echo(f"WebOS is up in {time.monotonic() - started:.1f}s — open http://127.0.0.1:{base_port}/")


@app.command()
def restart(component: str = typer.Argument(..., help="A service, `module:<name>` or `worker:<name>`."),
            state_dir: Path = StateDir, base_port: int = BasePort,
            timeout: float = typer.Option(60.0, help="Seconds to wait for it to be ready.")) -> None:
    """Stop one component and start it again; wait until it is ready."""
    try:
        rec = stack.restart(_plan(state_dir, base_port), component, timeout=timeout)
    except stack.StackError as exc:
        typer.echo(f"webos restart failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"  {rec.name:<18} pid {rec.pid:<8} {rec.url or '-'}")


@app.command()
def down(state_dir: Path = StateDir, base_port: int = BasePort) -> None:
    """Stop every process `webos up` started."""
    stopped = stack.down(_plan(state_dir, base_port))
    typer.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@app.command()
def status(state_dir: Path = StateDir, base_port: int = BasePort) -> None:
    """Each component: PID, port, readiness."""
    rows = stack.status(_plan(state_dir, base_port))
    if not rows:
        typer.echo("WebOS is not running (webos up starts it)")
        raise typer.Exit(3)
    typer.echo(f"{'COMPONENT':<18} {'PID':<8} {'PORT':<6} STATE")
    for row in rows:
        typer.echo(f"{row['name']:<18} {row['pid']:<8} {row['port'] or '-':<6} {row['state']}")
    if any(not row["state"].startswith("ready") for row in rows):
        raise typer.Exit(1)


@app.command()
def logs(component: str = typer.Argument(None, help="One component; all when omitted."),
         lines: int = typer.Option(40, "-n", help="Lines from the end of each log."),
         state_dir: Path = StateDir) -> None:
    """The tail of a component's log (or of every log)."""
    log_dir = state_dir.resolve() / "logs"
    files = sorted(log_dir.glob("*.log")) if component is None else [log_dir / f"{component.replace(':', '-')}.log"]
    for path in files:
        if not path.exists():
            typer.echo(f"no log for {component} in {log_dir}", err=True)
            raise typer.Exit(2)
        typer.echo(f"==> {path.stem} <==")
        typer.echo("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


@new_app.command("module")
def new_module(name: str = typer.Argument(..., help="Module name: lowercase, digits and _."),
               modules_dir: Path = typer.Option(Path("modules"), "--modules-dir", help="Where modules live."),
               install: bool = typer.Option(True, "--install/--no-install", help="Install it editable now.")) -> None:
    """Generate a working module (models, routers, admin, a task, a migration, tests)."""
    try:
        path = scaffold.create_module(name, modules_dir=modules_dir)
    except scaffold.ScaffoldError as exc:
        typer.echo(f"webos new module: {exc}", err=True)
        raise typer.Exit(2) from exc
    if install:
        scaffold.install(path)
    typer.echo(f"created {path} — test it: pytest {path} -q; run it: webos-module-host {name}")


if __name__ == "__main__":
    app()
