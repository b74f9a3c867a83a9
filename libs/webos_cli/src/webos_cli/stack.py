"""Bring the stack up and down on this machine, and say how it is.

Services, module hosts and workers run under a supervisor (`webos_cli.supervise`)
that restarts a crashed one with backoff; `status` shows the restarts.
State (PIDs, ports, log files) lives in `<state_dir>/state.json`; data in
`<state_dir>/data`, so it survives `down` / `up`. `down` stops exactly the
PIDs that `up` recorded — after checking each is still the process it
started — so nothing else on the machine is touched.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webos_cli import creds, infra
from webos_cli.plan import Component, StackPlan
from webos_cli.supervise import read_status
from webos_common.infra import ManagedProcess
from webos_common.infra.process import pid_alive, port_open, stop_pid, wait_port
from webos_common.security.tls import ensure_server_tls


class StackError(RuntimeError):
    """A component did not come up; the message names it and shows its log."""


class Refused(StackError):
    """`up` would mix two stacks in one state directory; nothing was started or stopped."""


class PartialStart(StackError):
    """Some services did not come up; the others (and the infrastructure) are left running."""


@dataclass
class Record:
    name: str
    kind: str
    pid: int
    port: int | None
    log: str
    argv0: str

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port and self.kind != "infra" else None


def _state_file(plan: StackPlan) -> Path:
    return plan.state_dir / "state.json"


def load_state(plan: StackPlan) -> dict[str, Record]:
    try:
        raw = json.loads(_state_file(plan).read_text())
    except (OSError, ValueError):
        return {}
    return {name: Record(**rec) for name, rec in raw.get("components", {}).items()}


def _save_state(plan: StackPlan, records: dict[str, Record]) -> None:
    plan.state_dir.mkdir(parents=True, exist_ok=True)
    body = {"base_port": plan.base_port, "cluster": plan.cluster,
            "components": {n: r.__dict__ for n, r in records.items()}}
    tmp = _state_file(plan).with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2))
    tmp.replace(_state_file(plan))


def _recorded_cluster(plan: StackPlan) -> bool:
    return StackPlan.recorded(plan.state_dir, plan.base_port).cluster


def is_running(rec: Record) -> bool:
    """Alive, and still the process we started (not a recycled PID)."""
    if not pid_alive(rec.pid):
        return False
    try:
        cmdline = Path(f"/proc/{rec.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    first = cmdline[0].decode(errors="replace") if cmdline else ""
    return first == rec.argv0 or first.startswith(rec.argv0 + " ")  # nginx's master shows a title before its argv


def probe(url: str, path: str, timeout: float = 1.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url + path, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"null")
        except ValueError:
            return exc.code, None
    except (OSError, ValueError):
        return 0, None


def _is_nats(name: str) -> bool:
    return name.partition(".")[0] == "nats"


def _start_infra(plan: StackPlan) -> dict[str, Record]:
    """MongoDB, S3 and NATS at once (NATS with the principals its auth.conf holds so far), then
    (from the first node, once every node listens) its streams and buckets, with the
    operator's credential."""
    servers = infra.servers(plan)
    records: dict[str, Record] = {}
    provisioner = next(n for n in servers if _is_nats(n))

    def start(name: str) -> None:
        server = servers[name]
        try:
            pid = server.start()
            if name == provisioner:
                for port in plan.nats_ports:
                    wait_port(port, timeout=15)
                asyncio.run(_provision(plan))
        except Exception as exc:
            tail = server.process.log_tail() if server.process else ""
            if server.process:
                server.process.stop()
            raise StackError(f"{name} did not start: {exc}\n--- {name} log ---\n{tail}") from exc
        argv0 = getattr(server, "title", None) or server.argv()[0]  # what /proc/<pid>/cmdline starts with
        records[name] = Record(name, "infra", pid, server.port, str(server.log_path), argv0)

    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        errors = [f.exception() for f in [pool.submit(start, n) for n in servers]]
    failed = [e for e in errors if e is not None]
    if failed:
        for rec in records.values():
            stop_pid(rec.pid)
        raise failed[0]
    return records


async def _provision(plan: StackPlan, deadline: float = 30.0) -> None:
    """Streams and buckets, at one copy per NATS node; a new cluster answers "JetStream
    temporarily unavailable" until it has elected its meta leader, which is waited for."""
    import nats
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeoutError
    from nats.js.errors import ServiceUnavailableError

    from webos_common.bus.connection import connect_options, nats_servers
    from webos_common.bus.settings import BusSettings
    from webos_common.infra.provision import provision

    nc = await nats.connect(nats_servers(plan.nats_url), connect_timeout=5, **connect_options(
        name="webos-cli", credential_file=plan.credentials_dir / f"{creds.OPERATOR}.nk", principal=creds.OPERATOR,
        ca_file=plan.tls_dir / "ca.pem"))
    give_up = time.monotonic() + deadline
    try:
        while True:
            try:
                await provision(nc.jetstream(timeout=10), bus=BusSettings(replicas=len(plan.nats_ports)))
                return
            except (ServiceUnavailableError, NoRespondersError, NatsTimeoutError):
                if time.monotonic() > give_up:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await nc.close()


def _nats_records(records: dict[str, Record]) -> list[Record]:
    return [r for n, r in records.items() if r.kind == "infra" and _is_nats(n) and is_running(r)]


def _reload_nats(plan: StackPlan, records: list[Record]) -> None:
    """A running NATS (every node) re-reads auth.conf (new or changed principals)."""
    for record in records:
        os.kill(record.pid, signal.SIGHUP)
    asyncio.run(_provision(plan))


def reload_credentials(plan: StackPlan) -> bool:
    """After `webos creds` changed the registry: a running NATS of this stack applies it now
    (a rotated or revoked key stops working; connections made with it are closed). False when
    no NATS of this stack runs (the change applies at its next start)."""
    records = _nats_records(load_state(plan))
    if not records:
        return False
    _reload_nats(plan, records)
    return True


def supervisor_file(plan: StackPlan, name: str) -> Path:
    return plan.state_dir / "supervisor" / f"{name.replace(':', '-')}.json"


def _launch(component: Component, plan: StackPlan) -> tuple[Record, ManagedProcess]:
    """Start a component under its supervisor (restarts it with backoff when it crashes)."""
    log_path = plan.log_dir / f"{component.name.replace(':', '-')}.log"
    status = supervisor_file(plan, component.name)
    status.parent.mkdir(parents=True, exist_ok=True)
    status.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "webos_cli.supervise", str(status), "--", *component.argv]
    # Everything starts at once on one machine: on a busy one NATS may take longer than a
    # service's default 20 s to answer. Deployments keep 20 s.
    env = {"WEBOS_STARTUP_DEADLINE": os.environ.get("WEBOS_STARTUP_DEADLINE", "60"), **component.env}
    proc = ManagedProcess(component.name, argv, log_path=log_path, env=env)
    pid = proc.start()
    return Record(component.name, component.kind, pid, component.port, str(proc.log_path), argv[0]), proc


def _crashed(plan: StackPlan | None, name: str) -> int | None:
    """The exit code of a supervised component that crashed at least once, else None."""
    if plan is None:
        return None
    status = read_status(supervisor_file(plan, name))
    return status.get("last_exit") if status.get("restarts") else None


def wait_ready(records: list[Record], procs: dict[str, ManagedProcess], timeout: float,
               plan: StackPlan | None = None) -> dict[str, str]:
    """Wait for every record's /readyz; return what failed (name → why, with its log)."""
    pending = {r.name: r for r in records if r.url}
    failed: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while pending and time.monotonic() < deadline:
        for name, rec in list(pending.items()):
            proc = procs.get(name)
            code = _crashed(plan, name)
            if (proc is not None and not proc.alive()) or code is not None:
                tail = proc.log_tail() if proc else ""
                failed[name] = f"exited during start (status {code})\n--- {name} log ---\n{tail}"
                del pending[name]
                continue
            status, body = probe(rec.url or "", "/readyz")
            last[name] = body
            if status == 200:
                del pending[name]
        time.sleep(0.1)
    for name in pending:
        proc = procs.get(name)
        failed[name] = (f"not ready after {timeout:.0f}s (last /readyz: {last.get(name)})\n"
                        f"--- {name} log ---\n{proc.log_tail() if proc else ''}")
    return failed


def _launch_all(components: list[Component], plan: StackPlan, current: dict[str, Record],
                procs: dict[str, ManagedProcess], started: list[Record], problems: dict[str, str]) -> None:
    """Start each of `components` not running yet; a taken port is a problem, not a stop."""
    for component in components:
        if component.name in current:
            continue
        if component.port and port_open(component.port):
            problems[component.name] = (f"port {component.port} is taken by another process: free it, "
                                        f"or start the stack with another --base-port")
            continue
        rec, proc = _launch(component, plan)
        current[rec.name], procs[rec.name] = rec, proc
        started.append(rec)
        _save_state(plan, current)


def _settle(declared: Future[None]) -> None:
    try:
        declared.result()
    except creds.DeclarationError as exc:
        raise StackError(str(exc)) from exc


def up(plan: StackPlan, *, timeout: float = 60.0) -> dict[str, Record]:
    """Start whatever is not running yet; return every component's record.

    When the infrastructure fails everything is stopped again; when a service or module
    fails (its port is taken, it crashes at start), the healthy ones stay up and
    `PartialStart` says what to fix (`webos restart <name>` once it is)."""
    try:
        return _up(plan, timeout)
    except (PartialStart, Refused):
        raise
    except StackError:
        down(plan)
        raise


def _up(plan: StackPlan, timeout: float) -> dict[str, Record]:
    current = {n: r for n, r in load_state(plan).items() if is_running(r)}
    if current and _recorded_cluster(plan) != plan.cluster:
        raise Refused("a stack of the other mode runs from this state directory: `webos down` it first")
    components = plan.services() + plan.modules() + plan.workers()
    store = creds.issue_keys(plan, components)  # every seed file exists before a process reads it
    ensure_server_tls(plan.tls_dir)  # and the CA every process trusts (read as it starts)
    with ThreadPoolExecutor(max_workers=2) as pool:
        infra = None
        fresh = plan.infra_names - set(current)
        if fresh:
            for rec in current.values():
                stop_pid(rec.pid)
            current = {}
        modules = [c for c in components if c.kind == "module" and c.name not in current]
        declared = pool.submit(creds.declare_modules, store, modules, timeout=timeout)
        if fresh:
            # Services spend their first seconds importing; infrastructure starts meanwhile (they
            # retry NATS and wait for a MongoDB primary on their own). NATS does not wait for the
            # modules' declarations (on a busy machine those took over a minute, and every service
            # gave up on NATS): a reload gives them to it before the module hosts start.
            infra = pool.submit(_start_infra, plan)
        if plan.cluster:
            # Twenty processes importing at once would starve the declarations, and with them
            # the module hosts: a cluster starts its services once those are made.
            _settle(declared)
        procs: dict[str, ManagedProcess] = {}
        started: list[Record] = []
        problems: dict[str, str] = {}
        try:
            kernel = [c for c in components if c.kind != "module"]
            _launch_all(kernel, plan, current, procs, started, problems)
        finally:
            if infra is not None:
                current.update(infra.result())  # raises the infrastructure's StackError, if any
                _save_state(plan, current)
        _settle(declared)
        _reload_nats(plan, _nats_records(current))
        _launch_all([c for c in components if c.kind == "module"], plan, current, procs, started, problems)
    problems.update(wait_ready(started, procs, timeout, plan))
    if problems:
        for name in problems:  # a failed one is not left restarting in a loop
            gone = current.pop(name, None)
            if gone is not None and is_running(gone):
                stop_pid(gone.pid)
        _save_state(plan, current)
        text = "\n".join(f"{name}: {why}" for name, why in problems.items())
        raise PartialStart(f"{len(problems)} component(s) did not start; the others are running.\n{text}")
    return current


def restart(plan: StackPlan, name: str, *, timeout: float = 60.0) -> Record:
    """Stop one service, module host or worker and start it again (infrastructure: `down`/`up`)."""
    components = {c.name: c for c in plan.services() + plan.modules() + plan.workers()}
    if name not in components:
        raise StackError(f"no component {name!r}; one of: {', '.join(sorted(components))}")
    current = load_state(plan)
    if not {"mongodb", "nats"} <= {n.partition(".")[0] for n, r in current.items() if is_running(r)}:
        raise StackError("the stack is not running: `webos up` first")
    old = current.get(name)
    if old is not None and is_running(old):
        stop_pid(old.pid, timeout=15)
    component = components[name]
    if component.port and port_open(component.port):
        raise StackError(f"{name}: port {component.port} is taken by another process")
    rec, proc = _launch(component, plan)
    current[name] = rec
    _save_state(plan, current)
    failed = wait_ready([rec], {name: proc}, timeout, plan)
    if failed:
        raise StackError(f"{name}: {failed[name]}")
    return rec


def record_pid(plan: StackPlan, name: str, pid: int) -> None:
    """`name` runs again as `pid` (a node started by hand after a fault): `down` stops that one."""
    current = load_state(plan)
    current[name].pid = pid
    _save_state(plan, current)


def down(plan: StackPlan) -> list[str]:
    """Stop every recorded process: services first, infrastructure last."""
    records = load_state(plan)
    order = sorted(records.values(), key=lambda r: r.kind == "infra")
    stopped = []
    with ThreadPoolExecutor(max_workers=max(8, len(records))) as pool:  # all at once: each may take seconds
        for group in ([r for r in order if r.kind != "infra"], [r for r in order if r.kind == "infra"]):
            running = [r for r in group if is_running(r)]
            list(pool.map(lambda r: stop_pid(r.pid, timeout=15), running))
            stopped += [r.name for r in running]
    _state_file(plan).unlink(missing_ok=True)
    return stopped


def status(plan: StackPlan) -> list[dict[str, Any]]:
    rows = []
    for rec in load_state(plan).values():
        running = is_running(rec)
        if not running:
            ready = "stopped"
        elif rec.url:
            code, _ = probe(rec.url, "/readyz")
            ready = "ready" if code == 200 else f"not ready ({code or 'no answer'})"
        else:
            ready = "ready" if rec.port is None or port_open(rec.port) else "no port"
        supervised = read_status(supervisor_file(plan, rec.name))
        restarts = int(supervised.get("restarts") or 0)
        if restarts:
            last = f"last exit {supervised.get('last_exit')} at {supervised.get('last_restart')}"
            ready += f" (restarted {restarts}x, {last})"
        rows.append({"name": rec.name, "kind": rec.kind, "pid": rec.pid, "port": rec.port,
                     "url": rec.url, "state": ready, "log": rec.log, "restarts": restarts})
    return rows
