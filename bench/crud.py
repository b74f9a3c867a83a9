"""CRUD through the gateway: what a request costs the whole stack, and what
happens under contention.

Starts the platform as `make up` does (`webos up` in a temp state dir),
creates people (a role with `tasks.read`/`tasks.write`), each with their own
token, seeds their tasks straight into MongoDB (1,000 and then 10,000 rows
per person), and drives the tasks module through the gateway with wrk (32
connections, each request as one of the people, on that person's rows):

* list own, first page of 20; get by id; update (`/move`); create —
  req/s, p50/p99, status codes, and **CPU ms per request summed over every
  process of the stack** (gateway, auth, events, settings, storage, shell,
  module hosts, workers, MongoDB, NATS) including the work that goes on
  after the run until the stack is quiet (that tail's length is printed),
  minus what the idle stack spends in the same time;
* outbox lag: after the update run, how long until no outbox row is pending;
* contention: five records, bursts of ten simultaneous moves each — the
  status codes, and whether the final versions agree with the successes;
* conditional requests and idempotency: a stale If-Match and a repeated
  Idempotency-Key.

Goals (issue #26): list <= 3.3 ms at both sizes, get <= 1.7, update <= 4.6,
create <= 3.9 CPU ms/request; 0 5xx under contention; lag <= 1 s.

Run: `.venv/bin/python bench/crud.py [--seconds 10] [--people 10] [--sizes 1000,10000]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from bson import ObjectId
from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import wrk

from webos_cli.plan import StackPlan
from webos_cli.stack import load_state
from webos_common.documents.sharing import row_reach
from webos_common.infra.process import free_port_range

WEBOS = [sys.executable, "-m", "webos_cli.main"]
ADMIN = ("admin", os.environ.get("WEBOS_ADMIN_PASSWORD", "changeme"))
PASSWORD = "Bench-Passw0rd!"
GOALS = {"list": 3.3, "get": 1.7, "update": 4.6, "create": 3.9}
LUA = Path(__file__).resolve().parent / "_support" / "crud.lua"


# -- the platform -------------------------------------------------------------
@contextmanager
def platform(state: Path) -> Any:
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


def stack_processes(plan: StackPlan) -> list[psutil.Process]:
    procs: dict[int, psutil.Process] = {}
    for rec in load_state(plan).values():
        try:
            top = psutil.Process(rec.pid)
        except psutil.NoSuchProcess:
            continue
        for proc in [top, *top.children(recursive=True)]:
            procs[proc.pid] = proc
    return list(procs.values())


class CpuMeter:
    """CPU seconds (user + system) of every process of the stack."""

    def __init__(self, plan: StackPlan) -> None:
        self.procs = stack_processes(plan)

    def seconds(self) -> float:
        total = 0.0
        for proc in self.procs:
            try:
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                continue
        return total

    def idle_rate(self, seconds: float = 4.0) -> float:
        before = self.seconds()
        time.sleep(seconds)
        return (self.seconds() - before) / seconds

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


def make_people(client: httpx.Client, count: int) -> list[tuple[str, str]]:
    """(user id, token) of `count` new people allowed to use tasks."""
    admin = {"Authorization": f"Bearer {sign_in(client, *ADMIN)}"}
    client.post("/api/auth/roles", json={"name": "bench", "permissions": ["tasks.read", "tasks.write"]},
                headers=admin)
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
                 "shares": [], "assignees": [], "reach": row_reach(uid, [], [])}
                for n in range(have, per_person)]
        for start in range(0, len(rows), 5000):
            items.insert_many(rows[start:start + 5000], ordered=False)
        ids[uid] = [str(r["_id"]) for r in items.find({"owner_id": uid}, {"_id": 1}).limit(200)]
    return ids


# -- runs ----------------------------------------------------------------------
def write_plan(path: Path, people: list[tuple[str, str]], ids: dict[str, list[str]]) -> None:
    lines = ["people = {"]
    for uid, token in people:
        lines.append(f'  {{token = "{token}", ids = {{' + ",".join(f'"{i}"' for i in ids[uid]) + "}},")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def run_op(base: str, op: str, seconds: int, plan_file: Path, meter: CpuMeter, idle: float,
           mongo: MongoClient[Any]) -> dict[str, Any]:
    before = meter.seconds()
    started = time.monotonic()
    argv = [wrk.require_wrk(), "-t1", "-c32", f"-d{seconds}s", "--latency", "--timeout", "5s",
            "-s", str(LUA), base, "--", op, str(plan_file)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    ran = time.monotonic() - started
    lag = outbox_lag(mongo) if op in ("update", "create") else None
    tail = meter.tail(idle)
    spent = meter.seconds() - before - idle * (time.monotonic() - started)
    result = wrk.parse(out)
    codes = json.loads(out.split("CODES ", 1)[1].splitlines()[0]) if "CODES " in out else {}
    return {"op": op, "rps": result.rps, "p50": result.p50_ms, "p99": result.p99_ms, "requests": result.requests,
            "codes": codes, "cpu_ms": 1000 * spent / max(result.requests, 1), "tail": tail, "ran": ran, "lag": lag}


def outbox_lag(mongo: MongoClient[Any], limit: float = 60.0) -> float:
    outbox = mongo["webos"]["tasks_outbox"]
    started = time.monotonic()
    while outbox.count_documents({"status": "pending"}) and time.monotonic() - started < limit:
        time.sleep(0.05)
    return time.monotonic() - started


async def contention(base: str, token: str, *, records: int = 5, bursts: int = 7, size: int = 10) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    statuses = ("todo", "in_progress", "done")
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        made = [(await client.post("/api/tasks/tasks", json={"title": f"hot {i}"})).json() for i in range(records)]
        codes: Counter[int] = Counter()
        for burst in range(bursts):
            answers = await asyncio.gather(*(
                client.post(f"/api/tasks/tasks/{task['id']}/move", json={"status": statuses[(burst + n) % 3]})
                for task in made for n in range(size)))
            codes.update(r.status_code for r in answers)
        finals = [(await client.get(f"/api/tasks/tasks/{t['id']}")).json()["version"] for t in made]
        total = records * bursts * size
        ok = codes.get(200, 0)
        print(f"contention: {records} records x {bursts} bursts of {size}: {dict(sorted(codes.items()))}; "
              f"5xx {sum(v for k, v in codes.items() if k >= 500)} of {total}; {100 * ok / total:.1f} % succeed; "
              f"versions {'agree' if sum(v - 1 for v in finals) == ok else 'DISAGREE'} ({sum(finals) - records})")
        task = made[0]
        fresh = (await client.get(f"/api/tasks/tasks/{task['id']}")).headers["etag"]
        stale = await client.patch(f"/api/tasks/tasks/{task['id']}", json={"title": "late"},
                                   headers={"If-Match": '"1"'})
        unchanged = await client.get(f"/api/tasks/tasks/{task['id']}", headers={"If-None-Match": fresh})
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await client.post("/api/tasks/tasks", json={"title": "once"}, headers=key)
        again = await client.post("/api/tasks/tasks", json={"title": "once"}, headers=key)
        print(f"stale If-Match: {stale.status_code}; If-None-Match current: {unchanged.status_code}; "
              f"same Idempotency-Key twice: {first.status_code}/{again.status_code}, "
              f"{'one record, same response' if first.json() == again.json() else 'TWO RECORDS'}")


def report(results: list[dict[str, Any]], size: int) -> None:
    print(f"\n{size} rows per person")
    print(f"{'op':<8}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}{'goal':>7}{'tail s':>8}"
          f"{'lag s':>7}  codes")
    for r in results:
        goal = GOALS[r["op"]]
        mark = "ok" if r["cpu_ms"] <= goal else "MISSED"
        lag = "-" if r["lag"] is None else f"{r['lag']:.2f}"
        print(f"{r['op']:<8}{r['rps']:>8.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['cpu_ms']:>12.2f}{goal:>7.1f}"
              f"{r['tail']:>8.1f}{lag:>7}  {r['codes']} {mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--ops", default="list,get,update,create")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-crud-") as tmp, platform(Path(tmp) / "state") as (base, plan):
        with httpx.Client(base_url=base, timeout=30) as client:
            people = make_people(client, options.people)
        mongo = _mongo_of(plan)
        meter = CpuMeter(plan)
        asyncio.run(contention(base, people[0][1]))
        for size in (int(s) for s in options.sizes.split(",")):
            ids = seed(mongo, people, size)
            plan_file = Path(tmp) / f"plan-{size}.lua"
            write_plan(plan_file, people, ids)
            meter.tail(0.0, limit=20)  # let the seeding settle
            idle = meter.idle_rate()
            print(f"\nidle stack: {1000 * idle:.0f} CPU ms/s over {len(meter.procs)} processes")
            results = []
            for op in options.ops.split(","):
                results.append(run_op(base, op, options.seconds, plan_file, meter, idle, mongo))
            report(results, size)


def _mongo_of(plan: StackPlan) -> MongoClient[Any]:
    for rec in load_state(plan).values():
        if rec.kind == "infra" and rec.name.startswith("mongo") and rec.port:
            return MongoClient(f"mongodb://127.0.0.1:{rec.port}/?directConnection=true", tz_aware=True)
    raise SystemExit("no MongoDB in the stack's state")


if __name__ == "__main__":
    main()
