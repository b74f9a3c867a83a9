"""`webos`: up, down, status, logs, restart, chaos, new, creds, demo; `webos deploy secrets`; the operator's
backup, restore, modules, events."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import typer

from webos_cli import creds, demo, deploy, fs, migrate, ops, outbox_cmd, scaffold, settings_cmd, stack, users
from webos_cli.plan import StackPlan
from webos_common.security.credentials import CredentialStore
from webos_common.security.principals import CredentialError

app = typer.Typer(help="Run WebOS on this machine.", no_args_is_help=True, add_completion=False)
new_app = typer.Typer(help="Create things from templates.", no_args_is_help=True)
app.add_typer(new_app, name="new")
deploy_app = typer.Typer(help="Prepare a compose or Kubernetes deployment.", no_args_is_help=True)
app.add_typer(deploy_app, name="deploy")
creds_app = typer.Typer(help="NATS credentials: one nkey per service, module host and worker.", no_args_is_help=True)
app.add_typer(creds_app, name="creds")
app.add_typer(ops.modules_app, name="modules")
app.add_typer(users.user_app, name="user")
app.add_typer(settings_cmd.settings_app, name="settings")
app.add_typer(fs.fs_app, name="fs")
app.add_typer(ops.events_app, name="events")
app.add_typer(demo.demo_app, name="demo")
ops.events_app.command("refused")(outbox_cmd.refused)
app.command("backup")(ops.backup_command)
app.command("migrate")(migrate.migrate)
app.command("restore")(ops.restore_command)

StateDir = typer.Option(Path(os.environ.get("WEBOS_STATE_DIR", ".webos")), "--state-dir",
                        help="Where data, logs and PIDs live.")
BasePort = typer.Option(int(os.environ.get("WEBOS_BASE_PORT", "8700")), "--base-port",
                        help="First port; every component's port derives from it.")


def _plan(state_dir: Path, base_port: int) -> StackPlan:
    """The plan of the stack in `state_dir` (in cluster mode if it was started so)."""
    return StackPlan.recorded(state_dir.resolve(), base_port)


@app.command()
def up(state_dir: Path = StateDir, base_port: int = BasePort,
       timeout: float = typer.Option(60.0, help="Seconds to wait for every component to be ready."),
       cluster: bool = typer.Option(False, "--cluster", help="Three NATS nodes, a three-member MongoDB replica "
                                    "set, two replicas of every service, module host and worker, behind nginx "
                                    "(docs/deploy.md)."),
       load_demo: bool = typer.Option(False, "--demo/--no-demo", envvar="WEBOS_DEMO",
                                      help="On a fresh state (no data yet), load the demo company after "
                                      "(`webos demo load`); `make up` does unless WEBOS_DEMO=0.")) -> None:
    """Start MongoDB, NATS, S3 and every service and module; wait until all are ready."""
    started = time.monotonic()
    plan = StackPlan(state_dir=state_dir.resolve(), base_port=base_port, cluster=cluster)
    fresh = not plan.data_dir.exists()
    try:
        records = stack.up(plan, timeout=timeout)
    except stack.StackError as exc:
        typer.echo(f"webos up failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    for rec in records.values():
        where = rec.url or (f"127.0.0.1:{rec.port}" if rec.port else "-")
        typer.echo(f"  {rec.name:<20} pid {rec.pid:<8} {where}")
    typer.echo(f"WebOS is up in {time.monotonic() - started:.1f}s — open http://127.0.0.1:{base_port}/")
    if load_demo and fresh:  # never into data someone made: `webos demo load` does that when asked
        demo.run_load(f"http://127.0.0.1:{base_port}", "admin")


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
def chaos(state_dir: Path = StateDir, base_port: int = BasePort,
          rounds: int = typer.Option(1, help="Fault rounds, one after another."),
          short: bool = typer.Option(False, "--short", help="Only the kills (the round `make test` runs)."),
          settle: float = typer.Option(10.0, help="Seconds of load after each fault.")) -> None:
    """Faults against a running `webos up --cluster` stack under write load, then the checker's line."""
    from webos_cli import chaos as drill

    plan = _plan(state_dir, base_port)
    if not plan.cluster:
        typer.echo("webos chaos needs a stack started with `webos up --cluster`", err=True)
        raise typer.Exit(2)
    failed = False
    for n in range(1, rounds + 1):
        report = drill.run_round(plan, short=short, settle=settle, say=typer.echo)
        typer.echo(f"round {n}: {report.line()}")
        for problem in (report.lost + report.duplicated + report.reordered + report.partial)[:20]:
            typer.echo(f"  {problem}")
        failed = failed or not report.ok
    raise typer.Exit(1 if failed else 0)


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
    typer.echo(f"{'COMPONENT':<20} {'PID':<8} {'PORT':<6} STATE")
    for row in rows:
        typer.echo(f"{row['name']:<20} {row['pid']:<8} {row['port'] or '-':<6} {row['state']}")
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
        values = scaffold.deployment_file(modules_dir, scaffold.CHART_VALUES)
        if values is not None and scaffold.add_chart_entry(name, values):
            typer.echo(f"added module {name} to {values} (Helm chart: image webos/module-{name.replace('_', '-')})")
        compose_file = scaffold.deployment_file(modules_dir, scaffold.COMPOSE_FILE)
        if compose_file is not None and scaffold.add_compose_service(name, compose_file):
            typer.echo(f"added service module-{name} to {compose_file}")
    except scaffold.ScaffoldError as exc:
        typer.echo(f"webos new module: {exc}", err=True)
        raise typer.Exit(2) from exc
    if install:
        scaffold.install(path)
    typer.echo(f"created {path} — test it: pytest {path} -q; run it: webos-module-host {name}")


@deploy_app.command("secrets")
def deploy_secrets(
    out: Path = typer.Option(Path(".webos/deploy"), "--out", help="Where credentials and manifests are written."),
    values: list[Path] = typer.Option([], "--values", "-f", help="Chart values file(s) naming the modules."),
    declaration: list[str] = typer.Option([], "--declaration", help="MODULE=FILE: the output of "
                                          "`docker run IMAGE MODULE --declare`, for a module not installed here."),
    rotate: list[str] = typer.Option([], "--rotate", help="Give this principal a new key."),
    python: str = typer.Option(sys.executable, "--python", help="The interpreter the modules are installed for "
                               "(asked `-m webos_modulehost NAME --declare`)."),
    namespace: str = typer.Option("webos", help="Namespace of the WebOS Secrets."),
    nats_namespace: str = typer.Option("nats", help="Namespace of the NATS server (its auth.conf Secret)."),
) -> None:
    """Issue every process's NATS credential (kept across runs) and write them as Kubernetes
    Secrets and as files for docker-compose, with NATS's auth.conf and a CA for compose's TLS."""
    env_modules, workers = deploy.installed(StackPlan(Path(".webos").resolve(), 8700))
    named = deploy.modules_from_values(values)
    modules = env_modules if named is None else named
    try:
        given = dict(_pair(item) for item in declaration)
        declared = deploy.declare(modules, given, python=python)
        target = deploy.Deployment(modules=modules, workers=workers, namespace=namespace,
                                   nats_namespace=nats_namespace)
        store, revoked = deploy.issue(out, target, declarations=declared, rotate=tuple(rotate))
    except (creds.DeclarationError, CredentialError, ValueError, OSError) as exc:
        typer.echo(f"webos deploy secrets: {exc}", err=True)
        raise typer.Exit(2) from exc
    manifests = out / "kubernetes" / "secrets.yaml"
    manifests.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    manifests.write_text(deploy.kubernetes_manifests(store, target))
    manifests.chmod(0o600)
    compose = deploy.compose_files(store, out / "compose")
    typer.echo(f"{len(store.registry().principals)} principals ({', '.join(sorted(store.registry().principals))})")
    if revoked:
        typer.echo(f"revoked (no longer in the deployment): {', '.join(revoked)}")
    typer.echo(f"kubernetes: kubectl apply -f {manifests}")
    typer.echo(f"compose:    {compose} (WEBOS_COMPOSE_SECRETS in .env, docs/deploy.md)")


def _pair(item: str) -> tuple[str, Path]:
    name, sep, path = item.partition("=")
    if not sep or not name or not path:
        raise ValueError(f"--declaration {item!r}: expected MODULE=FILE")
    return name, Path(path)


CredentialsDir = typer.Option(None, "--dir", help="A credentials folder (default: the stack's, under --state-dir); "
                              "a deployment keeps its own and mounts the seed files as secrets.")


def _store(state_dir: Path, base_port: int, directory: Path | None) -> tuple[CredentialStore, StackPlan | None]:
    if directory is not None:
        return CredentialStore(directory.resolve()), None
    plan = _plan(state_dir, base_port)
    return CredentialStore(plan.credentials_dir), plan


def _applied(plan: StackPlan | None, store: CredentialStore) -> None:
    if plan is not None and stack.reload_credentials(plan):
        typer.echo("NATS reloaded: the change applies now")
    else:
        typer.echo(f"NATS applies {store.auth_path} when it next starts or reloads (SIGHUP)")


@creds_app.command("list")
def creds_list(state_dir: Path = StateDir, base_port: int = BasePort, directory: Path = CredentialsDir) -> None:
    """Every principal: kind, public key, what it declares."""
    store, _ = _store(state_dir, base_port, directory)
    principals = store.registry().principals
    if not principals:
        typer.echo(f"no credentials in {store.directory} (webos up or webos creds issue makes them)")
        raise typer.Exit(3)
    typer.echo(f"{'PRINCIPAL':<20} {'KIND':<9} {'PUBLIC KEY':<16} DECLARES")
    for p in sorted(principals.values(), key=lambda p: p.name):
        declares = ", ".join(f"{k} {len(v)}" for k, v in (("emits", p.emits), ("consumes", p.consumes),
                                                          ("consumers", p.consumers)) if v) or "-"
        seed = "" if store.seed_file(p.name).exists() else "  (no seed file here)"
        typer.echo(f"{p.name:<20} {p.kind:<9} {p.public_key[:12]}…   {declares}{seed}")


@contextlib.contextmanager
def _refused(command: str) -> Iterator[None]:
    """A refused credential change: its reason on stderr, exit code 2."""
    try:
        yield
    except (CredentialError, creds.DeclarationError) as exc:
        typer.echo(f"webos creds {command}: {exc}", err=True)
        raise typer.Exit(2) from exc


@creds_app.command("issue")
def creds_issue(name: str = typer.Argument(..., help="The principal: a kernel service, a module or <name>-worker."),
                kind: str = typer.Option("module", help="module | service | worker | operator"),
                python: str = typer.Option(sys.executable, help="The module's own Python (its environment "
                                           "answers `python -m webos_modulehost NAME --declare`)."),
                state_dir: Path = StateDir, base_port: int = BasePort, directory: Path = CredentialsDir) -> None:
    """A credential for a new module, service or worker (kept if it exists; declarations refreshed)."""
    store, plan = _store(state_dir, base_port, directory)
    with _refused("issue"):
        if kind == "operator":
            seed = store.issue(name, "operator")
        else:
            if kind not in ("module", "service", "worker"):
                raise CredentialError(f"kind must be module, service, worker or operator, not {kind!r}")
            declared = creds.module_declaration(name, python=python) if kind == "module" else None
            seed = creds.issue_component(store, creds.principal_component(name, kind), declared)
    typer.echo(f"{name}: seed file {seed} (mode 0600); give the process WEBOS_CREDENTIAL_FILE={seed} "
               f"WEBOS_PRINCIPAL={name}")
    _applied(plan, store)


@creds_app.command("rotate")
def creds_rotate(name: str, state_dir: Path = StateDir, base_port: int = BasePort,
                 directory: Path = CredentialsDir) -> None:
    """A new key for NAME; the old one stops working once NATS reloads. Restart the process after."""
    store, plan = _store(state_dir, base_port, directory)
    with _refused("rotate"):
        seed = store.rotate(name)
    typer.echo(f"{name}: new key in {seed}")
    _applied(plan, store)


@creds_app.command("revoke")
def creds_revoke(name: str, state_dir: Path = StateDir, base_port: int = BasePort,
                 directory: Path = CredentialsDir) -> None:
    """NAME can no longer connect to NATS nor get service tokens from auth."""
    store, plan = _store(state_dir, base_port, directory)
    with _refused("revoke"):
        store.revoke(name)
    typer.echo(f"{name}: revoked")
    _applied(plan, store)


if __name__ == "__main__":
    app()
