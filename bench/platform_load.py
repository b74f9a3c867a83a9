"""The whole platform under a realistic mixed load: through the gateway, and the
same mix sent straight to the services, in one run.

Starts the platform as `make up` does (`_support.stack`), makes one person per
virtual user (each with their own JWT, a role with `tasks.*`, `storage.*` and
`events.*`), seeds each one 1,000 tasks, five notifications and a 16 KB file in
their home, then drives this mix (per 20 requests), one connection per
virtual user:

    browse tasks (first page of 20) 5, open a task 4, create a task 2,
    move a task 2, list notifications 2, unread count 1, download 16 KB 2,
    upload 16 KB 1, list the home folder 1

* **saturated**: every virtual user sends its next request when the last
  one answered, for `--seconds`: req/s, p50/p99, errors (non-2xx or no
  answer), and **CPU ms per request of each process** of the stack (and of
  this client), including the work after the run until the stack is quiet,
  minus what the idle stack spends in the same time;
* **fixed rate**: the same mix at `--rate` req/s (open loop: latency from
  each request's scheduled time, so a stall counts against every request
  it delays): p50/p99, errors; then the same at half the saturated
  gateway rate, a rate the machine can carry.

It also prints the stack's CPU per request direct / via gateway (the ratio
a CPU-bound deployment would see, steadier than req/s on a shared machine)
and how many cores `--rate` of this mix needs.

Direct means each request goes to its service's own port (tasks module host,
storage, events) with the same path the gateway forwards and the same token.
The client is aiohttp in this process (one client for both modes, since one
wrk reaches one host only); its CPU per request is printed with the rest.

Goals (issue #22): saturated via gateway >= 0.7x direct; p99 at 300 req/s
via gateway <= 30 ms.

Run: `.venv/bin/python bench/platform_load.py [--seconds 10] [--users 32] [--rate 300]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support.stack import ADMIN, CpuMeter, make_people, mongo_of, platform, ports, seed, sign_in

PERMISSIONS = ("tasks.read", "tasks.write", "storage.read", "storage.write", "events.read", "events.write")
MIX = (("list", 5), ("get", 4), ("create", 2), ("move", 2), ("notes", 2), ("unread", 1), ("download", 2),
       ("upload", 1), ("folder", 1))
RATIO_GOAL, P99_GOAL = 0.7, 30.0
FILE = os.urandom(16 * 1024)
STATUSES = ("todo", "in_progress", "done")


def cycle() -> list[str]:
    """The mix as one interleaved round of 20 requests (each op spread over the round)."""
    slots: list[tuple[float, str]] = []
    for op, weight in MIX:
        slots += [((i + 0.5) / weight, op) for i in range(weight)]
    return [op for _, op in sorted(slots)]


@dataclass
class Person:
    uid: str
    token: str
    ids: list[str]
    n: int = 0

    def home(self, name: str = "") -> str:
        return "urn=" + quote(f"fs://local/home/{self.uid}/{name}", safe="")


@dataclass
class Targets:
    """Where each service's requests go, and the path prefix each keeps (gateway: `/api/<name>`)."""
    tasks: str
    storage: str
    events: str

    def request(self, op: str, person: Person) -> tuple[str, str, dict[str, Any]]:
        person.n += 1
        task = person.ids[person.n % len(person.ids)]
        if op == "list":
            return "GET", f"{self.tasks}/tasks?limit=20", {}
        if op == "get":
            return "GET", f"{self.tasks}/tasks/{task}", {}
        if op == "create":
            return "POST", f"{self.tasks}/tasks", {"json": {"title": f"bench {person.n}"}}
        if op == "move":
            return "POST", f"{self.tasks}/tasks/{task}/move", {"json": {"status": STATUSES[person.n % 3]}}
        if op == "notes":
            return "GET", f"{self.events}/notifications?limit=20", {}
        if op == "unread":
            return "GET", f"{self.events}/notifications/unread-count", {}
        if op == "download":
            return "GET", f"{self.storage}/files/content?{person.home('seed.bin')}", {}
        if op == "upload":
            return "PUT", f"{self.storage}/files/content?{person.home(f'up-{person.n % 50}.bin')}", {"data": FILE}
        return "GET", f"{self.storage}/files?{person.home()}&limit=20", {}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, op: str, started: float, status: int | str) -> None:
        self.latencies.append(time.perf_counter() - started)
        if not (isinstance(status, int) and status < 400):
            key = f"{op}:{status}"
            self.errors[key] = self.errors.get(key, 0) + 1

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def send(session: aiohttp.ClientSession, targets: Targets, person: Person, op: str, tally: Tally,
               started: float) -> None:
    method, url, kwargs = targets.request(op, person)
    try:
        async with session.request(method, url, headers={"Authorization": f"Bearer {person.token}"},
                                   **kwargs) as resp:
            await resp.read()
            tally.add(op, started, resp.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        tally.add(op, started, type(exc).__name__)


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=10))


async def saturate(targets: Targets, people: list[Person], seconds: float) -> Tally:
    ops, tally, deadline = cycle(), Tally(), time.perf_counter() + seconds

    async def user(k: int, person: Person) -> None:
        i = k
        while time.perf_counter() < deadline:
            await send(client, targets, person, ops[i % len(ops)], tally, time.perf_counter())
            i += 1

    async with session() as client:
        await asyncio.gather(*(user(k, p) for k, p in enumerate(people)))
    return tally


async def fixed_rate(targets: Targets, people: list[Person], rate: float, seconds: float) -> Tally:
    ops, tally, pending = cycle(), Tally(), set()
    async with session() as client:
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            job = asyncio.create_task(send(client, targets, people[i % len(people)], ops[i % len(ops)], tally, due))
            pending.add(job)
            job.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
    return tally


# -- a run: figures and CPU ------------------------------------------------------
def measured(meter: CpuMeter, idle: dict[str, float], run: Any) -> tuple[Tally, float, dict[str, float]]:
    """Run a saturated load; its tally, its length, and CPU ms per request of each process."""
    me = psutil.Process()
    before, mine, started = meter.per_process(), me.cpu_times(), time.perf_counter()
    tally = asyncio.run(run)
    ran = time.perf_counter() - started
    client = sum(me.cpu_times()[:2]) - sum(mine[:2])
    meter.tail(sum(idle.values()))
    after, spent = meter.per_process(), time.perf_counter() - started
    count = max(len(tally.latencies), 1)
    cpu = {name: 1000 * (after[name] - before[name] - idle[name] * spent) / count for name in after}
    cpu["(client)"] = 1000 * client / count
    return tally, ran, cpu


def line(label: str, tally: Tally, ran: float) -> str:
    done = len(tally.latencies)
    errors = sum(tally.errors.values())
    return (f"{label:<22}{done / ran:>8.0f}{tally.pct(0.5):>9.1f}{tally.pct(0.99):>9.1f}{errors:>8}"
            f"  {tally.errors or ''}")


def cpu_table(cpus: dict[str, dict[str, float]]) -> None:
    modes = list(cpus)
    print(f"\nCPU ms per mixed request, per process (idle subtracted: +-0.1 is noise)\n{'process':<22}"
          + "".join(f"{m:>12}" for m in modes) + f"{'mixed req/s per core (gateway)':>32}")
    names = sorted({n for c in cpus.values() for n in c}, key=lambda n: -cpus["gateway"].get(n, 0.0))
    for name in names:
        ms = cpus["gateway"].get(name, 0.0)
        per_core = f"{1000 / ms:>32.0f}" if ms >= 0.1 else f"{'-':>32}"
        print(f"{name:<22}" + "".join(f"{cpus[m].get(name, 0.0):>12.2f}" for m in modes) + per_core)
    print(f"{'stack total':<22}" + "".join(
        f"{sum(v for k, v in cpus[m].items() if k != '(client)'):>12.2f}" for m in modes))


def saturated_runs(meter: CpuMeter, idle: dict[str, float], targets: dict[str, Targets], people: list[Person],
                   options: Any) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """`--rounds` alternate saturated runs of each mode; req/s and CPU ms per request over all of them."""
    done = {label: 0 for label in targets}
    ran = dict.fromkeys(targets, 0.0)
    cpu: dict[str, dict[str, float]] = {label: {} for label in targets}
    for _ in range(options.rounds):
        for label, target in targets.items():
            tally, seconds, spent = measured(meter, idle, saturate(target, people, options.seconds))
            print(line(f"saturated {label}", tally, seconds))
            count = len(tally.latencies)
            for name, ms in spent.items():  # weighted by requests: CPU ms over all of the mode's requests
                cpu[label][name] = cpu[label].get(name, 0.0) + ms * count
            done[label] += count
            ran[label] += seconds
    rps = {label: done[label] / ran[label] for label in targets}
    per_request = {label: {n: v / max(done[label], 1) for n, v in cpu[label].items()} for label in targets}
    return rps, per_request


# -- set-up ------------------------------------------------------------------------
def prepare(base: str, plan: Any, users: int) -> list[Person]:
    with httpx.Client(base_url=base, timeout=60) as client:
        made = make_people(client, users, PERMISSIONS)
        admin = {"Authorization": f"Bearer {sign_in(client, *ADMIN)}"}
        ids = seed(mongo_of(plan), made, 1000)
        people = [Person(uid, token, ids[uid]) for uid, token in made]
        for person in people:
            for n in range(5):
                client.post("/api/events/notifications", headers=admin, json={
                    "user_id": person.uid, "title": f"note {n}"}).raise_for_status()
            client.put(f"/api/storage/files/content?{person.home('seed.bin')}", content=FILE,
                       headers={"Authorization": f"Bearer {person.token}"}).raise_for_status()
    return people


def targets_of(base: str, plan: Any) -> tuple[Targets, Targets]:
    port = ports(plan)
    tasks = next(p for name, p in port.items() if "tasks" in name and "worker" not in name)
    via = Targets(f"{base}/api/tasks", f"{base}/api/storage", f"{base}/api/events")
    direct = Targets(f"http://127.0.0.1:{tasks}/api/tasks", f"http://127.0.0.1:{port['storage']}",
                     f"http://127.0.0.1:{port['events']}")
    return via, direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--rounds", type=int, default=2, help="alternate saturated runs of each mode")
    options = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}; "
          f"{psutil.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp, platform(Path(tmp) / "state") as (base, plan):
        people = prepare(base, plan, options.users)
        via, direct = targets_of(base, plan)
        asyncio.run(saturate(direct, people, 2))  # warm both paths (connections, caches)
        asyncio.run(saturate(via, people, 2))
        meter = CpuMeter(plan)
        meter.tail(0.0, limit=20)
        idle = meter.idle_rates()
        print(f"idle stack: {1000 * sum(idle.values()):.0f} CPU ms/s over {len(meter.procs)} processes; "
              f"{options.users} virtual users, one connection each")
        print(f"\n{'mixed load':<22}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        rps, cpus = saturated_runs(meter, idle, {"direct": direct, "gateway": via}, people, options)
        ratio = rps["gateway"] / rps["direct"]
        p99 = {}
        for rate in (options.rate, round(rps["gateway"] / 2)):
            for label, target in (("direct", direct), ("gateway", via)):
                meter.tail(sum(idle.values()))  # the last run's backlog is no part of this one
                tally = asyncio.run(fixed_rate(target, people, rate, options.seconds))
                print(line(f"{rate:.0f} req/s {label}", tally, options.seconds))
                p99[rate] = tally.pct(0.99)
        print(f"\ngateway / direct, saturated: {rps['gateway']:.0f} / {rps['direct']:.0f} req/s = {ratio:.2f}x "
              f"(goal >= {RATIO_GOAL}x) "
              f"{'ok' if ratio >= RATIO_GOAL else 'MISSED'}")
        print(f"p99 at {options.rate:.0f} req/s via gateway: {p99[options.rate]:.1f} ms (goal <= {P99_GOAL:.0f} ms) "
              f"{'ok' if p99[options.rate] <= P99_GOAL else 'MISSED'}")
        cpu_table(cpus)
        total = {m: sum(v for k, v in cpus[m].items() if k != "(client)") for m in cpus}
        print(f"\nstack CPU per request, direct / via gateway: {total['direct'] / total['gateway']:.2f}x "
              f"(the ratio a CPU-bound deployment would see); {options.rate:.0f} req/s of this mix needs "
              f"{options.rate * total['gateway'] / 1000:.1f} cores for the stack, this machine has "
              f"{psutil.cpu_count()} (load {os.getloadavg()[0]:.1f})")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
