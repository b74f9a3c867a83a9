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
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import wrk
from _support.stack import CpuMeter, make_people, mongo_of, platform, seed

GOALS = {"list": 3.3, "get": 1.7, "update": 4.6, "create": 3.9}
LUA = Path(__file__).resolve().parent / "_support" / "crud.lua"


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
        mongo = mongo_of(plan)
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


if __name__ == "__main__":
    main()
