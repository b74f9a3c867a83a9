"""`webos deploy secrets`: the NATS credentials of a compose or Kubernetes
deployment, issued the way `webos up` issues its own (one nkey per process,
permissions from the role table and from each module's own declaration),
never written by hand.

    <out>/credentials/   seeds (0600), principals.json, auth.conf  — CredentialStore, kept across runs
    <out>/kubernetes/secrets.yaml   one Secret per process, principals, NATS's auth.conf
    <out>/compose/       the same for docker-compose (readable by the containers' user),
                         plus tls/: a CA and NATS's server certificate (webos_common.security.tls,
                         as `webos up` makes its own): ca.pem, ca-key.pem, nats.pem, nats-key.pem

Run it again after adding a module or changing what one declares: keys are
kept, permissions follow; a module no longer named loses its credential;
`--rotate NAME` gives one process a new key.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from webos_cli import creds
from webos_cli.plan import SERVICES, Component, StackPlan
from webos_common.security.credentials import CredentialStore
from webos_common.security.tls import ensure_server_tls

CREDENTIAL_KEY = "credential.nk"
NATS_HOSTS = ("nats", "nats-1", "nats-2", "nats-3", "localhost", "127.0.0.1")


@dataclass
class Deployment:
    """What gets a credential: the kernel, the worker(s), the modules and the operator."""

    modules: list[str]
    workers: list[str] = field(default_factory=list)  # principals, e.g. tasks-worker
    namespace: str = "webos"
    nats_namespace: str = "nats"
    credential_prefix: str = "webos-cred-"
    principals_secret: str = "webos-principals"  # noqa: S105 - a Secret's name, not its value
    nats_auth_secret: str = "webos-nats-auth"  # noqa: S105 - a Secret's name

    def components(self) -> list[Component]:
        found = [creds.principal_component(name, "service") for name in SERVICES]
        found += [creds.principal_component(name, "module") for name in self.modules]
        found += [creds.principal_component(name, "worker") for name in self.workers]
        return found


def modules_from_values(files: list[Path]) -> list[str] | None:
    """The modules named by the chart values files (later files add to earlier ones)."""
    names: set[str] = set()
    seen = False
    for path in files:
        values = yaml.safe_load(Path(path).read_text()) or {}
        if "modules" in values:
            seen = True
            names |= set(values["modules"] or {})
    return sorted(names) if seen else None


def issue(out: Path, deployment: Deployment, *, declarations: dict[str, dict[str, Any]],
          rotate: tuple[str, ...] = ()) -> tuple[CredentialStore, list[str]]:
    """Issue (or refresh) every credential under `out/credentials` and revoke those of processes
    no longer in the deployment (a module taken out of the values); return the store and the
    names revoked."""
    store = CredentialStore(out / "credentials")
    store.issue(creds.OPERATOR, "operator")
    wanted = {creds.OPERATOR}
    for component in deployment.components():
        declared = declarations.get(component.principal) if component.kind == "module" else None
        creds.issue_component(store, component, declared)
        wanted.add(component.principal)
    for name in rotate:
        store.rotate(name)
    gone = sorted(set(store.registry().principals) - wanted)
    for name in gone:
        store.revoke(name)
    return store, gone


def declare(modules: list[str], given: dict[str, Path], *, python: str = sys.executable,
            ) -> dict[str, dict[str, Any]]:
    """Each module's bus declaration: from a file (`docker run IMAGE NAME --declare` output) or
    asked of its package installed for `python`, as `webos up` does (in parallel)."""
    found = {name: json.loads(given[name].read_text().strip().splitlines()[-1]) for name in modules if name in given}
    found.update(creds.module_declarations([name for name in modules if name not in given], python=python))
    return {name: found[name] for name in modules}


def kubernetes_manifests(store: CredentialStore, deployment: Deployment) -> str:
    """Secrets for `kubectl apply`: a credential per process, principals.json for auth,
    auth.conf for the NATS server (in its own namespace)."""
    docs: list[dict[str, Any]] = []
    registry = store.registry()
    for name in sorted(registry.principals):
        docs.append(_secret(f"{deployment.credential_prefix}{name.replace('_', '-')}", deployment.namespace,
                            {CREDENTIAL_KEY: store.seed_file(name).read_text().strip()}))
    docs.append(_secret(deployment.principals_secret, deployment.namespace,
                        {"principals.json": store.registry_path.read_text()}))
    docs.append(_secret(deployment.nats_auth_secret, deployment.nats_namespace,
                        {"auth.conf": store.auth_path.read_text()}))
    return yaml.safe_dump_all(docs, sort_keys=False)


def _secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "webos"}},
            "stringData": data}


def compose_files(store: CredentialStore, target: Path) -> Path:
    """`target/`: each seed as `<principal>.nk`, principals.json, auth.conf and `tls/` (the CA and
    NATS's server certificate for the compose host names). Bind-mounted files keep their mode, so
    they are readable by the containers' user; the folder itself is the owner's only (0700)."""
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o700)
    names = [*store.registry().principals]
    for stale in target.glob("*.nk"):
        if stale.stem not in names:
            stale.unlink()
    for name in names:
        _copy(store.seed_file(name), target / f"{name}.nk")
    _copy(store.registry_path, target / "principals.json")
    _copy(store.auth_path, target / "auth.conf")
    ensure_server_tls(target / "tls", hosts=NATS_HOSTS)
    return target


def _copy(source: Path, dest: Path) -> None:
    shutil.copyfile(source, dest)
    os.chmod(dest, 0o644)


def installed(plan: StackPlan) -> tuple[list[str], list[str]]:
    """Modules and worker principals of this environment (when no values file names them)."""
    modules = [c.principal for c in plan.modules()]
    workers = [c.principal for c in plan.workers()]
    return modules, workers
