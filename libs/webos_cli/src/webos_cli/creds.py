"""Credentials of a stack: one nkey per process, issued before anything connects.

`webos up` calls `ensure_stack` on every start: kernel services and workers
get their role, each module host the declaration its own package makes
(`webos-module-host <name> --declare`, run as a command: the CLI never
imports a module). Keys are kept across starts; declarations are refreshed,
so a module that starts handling a new topic gets the permission with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from webos_cli.plan import Component, StackPlan
from webos_common.security import nats_permissions
from webos_common.security.credentials import CredentialStore
from webos_common.security.nats_permissions import KERNEL_CONSUMERS
from webos_common.security.principals import CredentialError

OPERATOR = "operator"


class DeclarationError(RuntimeError):
    """A module could not say what it declares (it would not start either)."""


def module_declaration(name: str, *, python: str = sys.executable, env: dict[str, str] | None = None,
                       timeout: float = 60.0) -> dict[str, Any]:
    """What module `name` declares on the bus, asked of its own package within `timeout` s."""
    try:
        done = subprocess.run([python, "-m", "webos_modulehost", name, "--declare"], capture_output=True,
                              text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise DeclarationError(f"module {name}: no declaration within {timeout:g} s (a Python start-up importing "
                               "the module host; on a busy machine give `webos up --timeout` more)") from None
    if done.returncode != 0:
        raise DeclarationError(f"module {name}: {done.stderr.strip()[-2000:] or 'no declaration'}")
    declared: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return declared


def module_declarations(names: list[str], *, python: str = sys.executable,
                        envs: dict[str, dict[str, str] | None] | None = None,
                        timeout: float = 60.0) -> dict[str, dict[str, Any]]:
    """What each of modules `names` declares, asked of their packages in parallel (each answer
    is a Python start-up importing the module host)."""
    if not names:
        return {}
    envs = envs or {}
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        found = list(pool.map(lambda name: module_declaration(name, python=python, env=envs.get(name),
                                                              timeout=timeout), names))
    return dict(zip(names, found, strict=True))


def issue_component(store: CredentialStore, component: Component, declared: dict[str, Any] | None = None) -> Path:
    name = component.principal
    if component.kind == "module":
        declared = declared or {}
        return store.issue(name, "module", emits=declared.get("emits", ()), consumes=declared.get("consumes", ()),
                           consumers=declared.get("consumers", ()), data_sources=declared.get("data_sources", ()))
    if component.kind == "worker":
        return store.issue(name, "worker")
    consumers, consumes = KERNEL_CONSUMERS.get(name, ([], []))
    return store.issue(name, "service", consumers=consumers, consumes=consumes)


def principal_component(name: str, kind: str) -> Component:
    """A component standing for principal `name` of `kind`, for issuing its credential alone."""
    if kind == "service" and name not in nats_permissions.KERNEL_SERVICES:
        raise CredentialError(f"no kernel service is called {name!r} ({', '.join(nats_permissions.KERNEL_SERVICES)})")
    if kind == "worker":
        if not name.endswith("-worker"):
            raise CredentialError(f"a worker's principal is <name>-worker, not {name!r}")
        return Component(f"worker:{name.removesuffix('-worker')}", "worker", None)
    return Component(name, kind, None)


def issue_keys(plan: StackPlan, components: list[Component]) -> CredentialStore:
    """Every seed file exists before any process reads it: the operator's and each component's
    (a module keeps what it declared last time until `declare_modules` refreshes it)."""
    store = CredentialStore(plan.credentials_dir)
    store.issue(OPERATOR, "operator")
    known = store.registry().principals
    for component in components:
        previous = known.get(component.principal)
        issue_component(store, component, previous.model_dump() if previous else None)
    return store


def declare_modules(store: CredentialStore, modules: list[Component], *, timeout: float = 60.0) -> None:
    """Refresh each module's permissions from what its package declares now (in parallel; once
    per module, however many hosts it has; each within `timeout` s, `webos up`'s own)."""
    modules = list({c.principal: c for c in reversed(modules)}.values())
    if not modules:
        return
    declared = module_declarations([c.principal for c in modules], envs={c.principal: c.env for c in modules},
                                   timeout=timeout)
    for component in modules:
        issue_component(store, component, declared[component.principal])
