"""The whole platform for a bench, as `make up` starts it (`webos up` in a temp state dir):
start-up, people with their own tokens, tasks seeded straight into MongoDB, and the CPU
time of every process of the stack (in total and per service)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from bson import ObjectId
from pymongo import MongoClient

from webos_cli.plan import StackPlan
from webos_cli.stack import load_state
from webos_common.documents.sharing import row_reach
from webos_common.infra.process import free_port_range

WEBOS = [sys.executable, "-m", "webos_cli.main"]
ADMIN = ("admin", os.environ.get("WEBOS_ADMIN_PASSWORD", "changeme"))
PASSWORD = "Bench-Passw0rd!"


@contextmanager
def platform(state: Path) -> Iterator[tuple[str, StackPlan]]:
    """`webos up` with the rate limits out of the way; the gateway's URL and the stack's plan."""
    base = free_port_range()
    args = ["--state-dir", str(state), "--base-port", str(base)]
    env = {**os.environ, "WEBOS_RATE_LIMIT_USER": "1000000/second", "WEBOS_RATE_LIMIT_MODULE": "1000000/second"}
    started = time.perf_counter()
    up = subprocess.run([*WEBOS, "up", *args, "--timeout", "120"], capture_output=True, text=True, timeout=200,
                        env=env)
    try:
        if up.returncode != 0:
            raise SystemExit(f"webos up failed:\n{up.stdout}\n{up.stderr}")
        print(f"platform up in {time.perf_counter() - started:.1f}s")
        yield f"http://127.0.0.1:{base}", StackPlan(state_dir=state, base_port=base)
    finally:
        subprocess.run([*WEBOS, "down", *args], capture_output=True, timeout=120)


def ports(plan: StackPlan) -> dict[str, int]:
    """Each process's port by its name in the stack's state (`gateway`, `storage`, `module-tasks`…)."""
    return {rec.name: rec.port for rec in load_state(plan).values() if rec.port}


def stack_processes(plan: StackPlan) -> dict[str, list[psutil.Process]]:
    """Every process of the stack (children included) under its name in the stack's state."""
    named: dict[str, list[psutil.Process]] = {}
    for rec in load_state(plan).values():
        try:
            top = psutil.Process(rec.pid)
        except psutil.NoSuchProcess:
            continue
        named[rec.name] = [top, *top.children(recursive=True)]
    return named


def _cpu(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return t.user + t.system + t.children_user + t.children_system


class CpuMeter:
    """CPU seconds (user + system) of every process of the stack."""

    def __init__(self, plan: StackPlan) -> None:
        self.named = stack_processes(plan)
        self.procs = [p for procs in self.named.values() for p in procs]

    def seconds(self) -> float:
        return sum(_cpu(proc) for proc in self.procs)

    def per_process(self) -> dict[str, float]:
        """CPU seconds so far of each named process (with its children)."""
        return {name: sum(_cpu(p) for p in procs) for name, procs in self.named.items()}

    def idle_rate(self, seconds: float = 4.0) -> float:
        before = self.seconds()
        time.sleep(seconds)
        return (self.seconds() - before) / seconds

    def idle_rates(self, seconds: float = 4.0) -> dict[str, float]:
        """Each process's CPU seconds per second at rest."""
        before = self.per_process()
        time.sleep(seconds)
        after = self.per_process()
        return {name: (after[name] - before[name]) / seconds for name in after}

    def tail(self, idle: float, *, window: float = 0.5, limit: float = 60.0) -> float:
        """Wait until a window spends no more than the idle stack (plus 3 % of a core); its length."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            before = self.seconds()
            time.sleep(window)
            if (self.seconds() - before) / window <= max(idle * 1.5, idle + 0.03):
                return time.monotonic() - started - window
        return limit


# -- people and rows ----------------------------------------------------------
def sign_in(client: httpx.Client, login: str, password: str) -> str:
    resp = client.post("/api/auth/login", json={"login": login, "password": password})
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def make_people(client: httpx.Client, count: int,
                permissions: tuple[str, ...] = ("tasks.read", "tasks.write")) -> list[tuple[str, str]]:
    """(user id, token) of `count` new people with a role holding `permissions`."""
    admin = {"Authorization": f"Bearer {sign_in(client, *ADMIN)}"}
    client.post("/api/auth/roles", json={"name": "bench", "permissions": list(permissions)},
                headers=admin).raise_for_status()
    people = []
    for i in range(count):
        name = f"bench{i}-{uuid.uuid4().hex[:6]}"
        resp = client.post("/api/auth/users", json={"email": f"{name}@example.com", "username": name,
                                                     "password": PASSWORD, "roles": ["user", "bench"]},
                           headers=admin)
        resp.raise_for_status()
        people.append((str(resp.json()["id"]), sign_in(client, name, PASSWORD)))
    return people


def seed(mongo: MongoClient[Any], people: list[tuple[str, str]], per_person: int) -> dict[str, list[str]]:
    """Top every person up to `per_person` tasks (straight into MongoDB); a sample of each one's ids."""
    items = mongo["webos"]["tasks_items"]
    ids: dict[str, list[str]] = {}
    now = datetime.now(UTC)
    for uid, _ in people:
        have = items.count_documents({"owner_id": uid})
        rows = [{"_id": ObjectId(), "title": f"task {n}", "description": "", "status": "todo", "priority": "medium",
                 "due_date": None, "tags": ["bench"], "completed_at": None, "reminded_for": None,
                 "attachment": None, "owner_id": uid, "created_at": now - timedelta(seconds=n), "created_by": uid,
                 "updated_at": now, "updated_by": uid, "deleted_at": None, "deleted_by": None, "version": 1,
                 "shares": [], "assignees": [], "reach": row_reach(uid, [], [])}  # as the repository writes it
                for n in range(have, per_person)]
        for start in range(0, len(rows), 5000):
            items.insert_many(rows[start:start + 5000], ordered=False)
        ids[uid] = [str(r["_id"]) for r in items.find({"owner_id": uid}, {"_id": 1}).limit(200)]
    return ids


def mongo_of(plan: StackPlan) -> MongoClient[Any]:
    for rec in load_state(plan).values():
        if rec.kind == "infra" and rec.name.startswith("mongo") and rec.port:
            return MongoClient(f"mongodb://127.0.0.1:{rec.port}/?directConnection=true", tz_aware=True)
    raise SystemExit("no MongoDB in the stack's state")
