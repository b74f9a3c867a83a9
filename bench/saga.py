"""Orders placed, paid (the payment saga) and fulfilled (inventory's reservation) through the
whole platform, at a steady rate and saturated, with what a saga step costs over its bare call.

Starts the platform as `make up` does (`_support.stack`; the `orders` and `inventory` modules are
part of it), makes an item with ample stock, a buyer and an approver (one role with `orders.read`,
`orders.write`, `orders.approve`, `inventory.read`: the workflow's four eyes are two people, the
approver is not who submitted), then, through the gateway, every order is

    POST /api/orders/orders (one line of the item), POST …/{id}/transition {"action": "submit"},
    POST …/{id}/transition {"action": "approve"} (the approver), POST …/{id}/pay

`/pay` runs the payment saga (charge with the simulated provider, then record the payment and
emit `order:paid` in one transaction); inventory reserves the line on `order:paid` and answers
`stock:reserved`, and orders moves the order to fulfilled and emits `order:fulfilled`.

"Fulfilled" is observed on the bus: this process subscribes (core NATS, with the stack's operator
credential, as `webos events tail` does) to `order:fulfilled` from any publisher, so the time is
when the event left the orders module's outbox, what any other module would see; nothing polls
the stack, so the figures carry no cost of watching. It hears `order:paid` and `stock:reserved`
the same way, which splits pay → fulfilled into its stages (the saga and the orders outbox;
inventory's consumer, reservation and outbox; orders' consumer, fulfil and outbox).

* **steady rate**: `--rate` orders/s for `--seconds`, open loop (each order starts at its
  scheduled time, whatever the ones before it are doing): p50/p99 of submit → fulfilled, pay →
  fulfilled, and placed (its scheduled start) → fulfilled; each request's own p50/p99; errors;
  CPU ms per order of every process of the stack (idle subtracted, the work after the last order
  until the stack is quiet included);
* **saturated**: `--saturated` orders made approved beforehand, then paid by `--workers` callers
  each paying its next order as soon as the last `/pay` answered: sagas completed per second
  (first pay to last `order:fulfilled`), and CPU ms per saga;
* **a rate this machine carries**: the steady part again at a quarter of the saturated saga rate
  (`--carried`), its figures with no queue in them;
* **overhead of one saga step**: in this process, on the stack's MongoDB, the orders module's
  own `SimulatedProvider.charge` (the bare call the saga's charge step makes: a `find_one` by key
  and an `insert_one`) against a `Saga` with that one step (its run written to a `SagaStore` on
  the same database: before the step, and at the end) and against a saga of two such steps (the
  second step's extra time is what one more step costs: its action and one write of the run).
  Alternated in rounds, medians. Also printed: the `/pay` route against a plain workflow
  transition (`approve`, one transaction with its outbox row) at the rate the machine carries;
* **nothing lost or duplicated**: read straight from MongoDB after the run, over every order
  whose `/pay` was sent: one the saga ran for (its pay answered 2xx, or its run exists although
  the gateway gave up waiting) is fulfilled with one `fulfil` in its history, one completed
  `order_payment` run and no other, one charged payment, one reservation, the item's reserved
  stock up by exactly what was ordered, each of its three events heard once on the bus; one
  refused before its saga started is untouched; the admin's view of the runs
  (`GET /api/orders/admin/sagas?meta=total`) counts the same.

Goals (issue #18): p99 submit → fulfilled <= 250 ms at 50 orders/s; no saga lost or duplicated.

Run: `.venv/bin/python bench/saga.py [--rate 50] [--seconds 60] [--saturated 600] [--workers 16] [--carried 0]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support.stack import ADMIN, CpuMeter, make_people, mongo_of, platform, sign_in

from webos_cli.ops import operator_nats, target
from webos_common.bus.topics import topic_filter
from webos_common.bus.wire import envelope_of
from webos_common.processes.saga import COMPLETED, Saga, SagaContext, SagaStore
from webos_orders.payments import SimulatedProvider

PERMISSIONS = ("orders.read", "orders.write", "orders.approve", "inventory.read")
ORDERS, SAGAS = "/api/orders/orders", "/api/orders/admin/sagas"
P99_GOAL = 250.0  # ms, submit → fulfilled at 50 orders/s
QUANTITY = 2
FULFIL_TIMEOUT = 120.0  # s an order is waited for (later: an error of the run; the audit still checks it)


@dataclass
class Order:
    scheduled: float
    id: str = ""
    times: dict[str, float] = field(default_factory=dict)  # step → when it was sent; "fulfilled" → heard
    error: str | None = None
    paid: bool = False  # `/pay` answered 2xx


@dataclass
class Run:
    """Orders of one part of the bench, each request's latency by kind, and the errors."""
    orders: list[Order] = field(default_factory=list)
    requests: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)


STAGES = ("order:paid", "stock:reserved", "order:fulfilled")  # heard on the bus, in the saga's order


class Heard:
    """The saga's events as heard on the bus: when each order's first of each came, how many came."""

    def __init__(self) -> None:
        self.at: dict[str, dict[str, float]] = {topic: {} for topic in STAGES}
        self.count: dict[str, Counter[str]] = {topic: Counter() for topic in STAGES}
        self.waiting: dict[str, asyncio.Future[float]] = {}

    async def received(self, msg: Any) -> None:
        now = time.perf_counter()
        envelope = envelope_of(msg.headers, msg.data)
        order_id = str(envelope.payload["order_id" if "order_id" in envelope.payload else "id"])
        self.count[envelope.topic][order_id] += 1
        self.at[envelope.topic].setdefault(order_id, now)
        if envelope.topic == "order:fulfilled":
            waiter = self.waiting.pop(order_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

    async def fulfilled(self, order_id: str) -> float:
        if order_id in self.at["order:fulfilled"]:
            return self.at["order:fulfilled"][order_id]
        waiter = self.waiting.setdefault(order_id, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(waiter, FULFIL_TIMEOUT)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _why(body: Any) -> str:
    """An error answer's code and reason (`{"error": {"code", "details": {"reason"}}}`), for counting."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    details = error.get("details")
    return f"{error.get('code', '')}:{details.get('reason', '') if isinstance(details, dict) else ''}"


class Client:
    """The buyer's and the approver's calls through the gateway (one aiohttp session)."""

    def __init__(self, base: str, buyer: str, approver: str, item: str, run: Run) -> None:
        self.base, self.item, self.run = base, item, run
        self.buyer = {"Authorization": f"Bearer {buyer}"}
        self.approver = {"Authorization": f"Bearer {approver}"}
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                             timeout=aiohttp.ClientTimeout(total=30))

    async def call(self, kind: str, order: Order, path: str, headers: dict[str, str],
                   body: dict[str, Any] | None = None) -> dict[str, Any]:
        started = order.times[kind] = time.perf_counter()
        async with self.session.post(f"{self.base}{path}", json=body, headers=headers) as resp:
            data = await resp.json(content_type=None)
            self.run.requests.setdefault(kind, []).append(time.perf_counter() - started)
            if resp.status >= 400:
                raise RuntimeError(f"{kind}:{resp.status}:{_why(data)}")
            return dict(data)

    async def approved(self, order: Order) -> None:
        """Create, submit, approve (by the other person)."""
        made = await self.call("create", order, ORDERS, self.buyer,
                               {"lines": [{"item_id": self.item, "quantity": QUANTITY}]})
        order.id = str(made["id"])
        await self.call("submit", order, f"{ORDERS}/{order.id}/transition", self.buyer, {"action": "submit"})
        await self.call("approve", order, f"{ORDERS}/{order.id}/transition", self.approver, {"action": "approve"})

    async def pay(self, order: Order) -> None:
        await self.call("pay", order, f"{ORDERS}/{order.id}/pay", self.buyer)
        order.paid = True

    async def guarded(self, order: Order, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
            order.error = str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__
            self.run.errors[order.error] += 1


async def steady(client: Client, heard: Heard, rate: float, seconds: float) -> None:
    """Open loop: order i starts at i / rate, whatever the others are doing."""
    pending = set()
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        order = Order(scheduled=due)
        client.run.orders.append(order)

        async def whole(order: Order = order) -> None:
            await client.approved(order)
            await client.pay(order)
            await _heard(order, heard)

        job = asyncio.create_task(client.guarded(order, whole))
        pending.add(job)
        job.add_done_callback(pending.discard)
    await asyncio.gather(*pending)


async def prepare(client: Client, count: int, workers: int) -> list[Order]:
    """`count` approved orders, made by `workers` callers side by side."""
    orders = [Order(scheduled=0.0) for _ in range(count)]
    queue = list(orders)

    async def worker() -> None:
        while queue:
            order = queue.pop()
            await client.guarded(order, partial(client.approved, order))

    await asyncio.gather(*(worker() for _ in range(workers)))
    return [o for o in orders if o.error is None]


async def saturate(client: Client, heard: Heard, orders: list[Order], workers: int) -> float:
    """Pay every order, `workers` at a time, each the next as soon as its last `/pay` answered (not
    waiting for fulfilment); the seconds from the first pay to the last fulfilment."""
    queue, waits = list(orders), []
    start = time.perf_counter()

    async def worker() -> None:
        while queue:
            order = queue.pop()
            await client.guarded(order, partial(client.pay, order))
            if order.error is None:
                waits.append(asyncio.create_task(client.guarded(order, partial(_heard, order, heard))))

    await asyncio.gather(*(worker() for _ in range(workers)))
    await asyncio.gather(*waits)
    ends = [o.times["fulfilled"] for o in orders if "fulfilled" in o.times]
    return (max(ends) if ends else time.perf_counter()) - start


async def _heard(order: Order, heard: Heard) -> None:
    order.times["fulfilled"] = await heard.fulfilled(order.id)


# -- CPU -----------------------------------------------------------------------------------------
async def measured(meter: CpuMeter, idle: dict[str, float], work: Awaitable[Any], orders: Callable[[], int],
                   ) -> tuple[Any, dict[str, float]]:
    """Run `work`; its answer and CPU ms per order fulfilled of each process (idle subtracted, the
    tail until the stack is quiet included), and of this process."""
    me = psutil.Process()
    before, mine, started = meter.per_process(), me.cpu_times(), time.perf_counter()
    answer = await work
    client = sum(me.cpu_times()[:2]) - sum(mine[:2])
    await asyncio.to_thread(meter.tail, sum(idle.values()))
    after, spent = meter.per_process(), time.perf_counter() - started
    n = max(orders(), 1)
    cpu = {name: 1000 * (after[name] - before[name] - idle[name] * spent) / n for name in after}
    cpu["(this client)"] = 1000 * client / n
    return answer, cpu


def cpu_lines(cpus: dict[str, dict[str, float]]) -> None:
    modes = list(cpus)
    print(f"\nCPU ms per order fulfilled (at an overloaded rate the failed orders' work is in it), per process "
          f"(idle subtracted: +-0.2 is noise)\n{'process':<24}"
          + "".join(f"{m:>14}" for m in modes))
    names = sorted({n for c in cpus.values() for n in c}, key=lambda n: -cpus[modes[0]].get(n, 0.0))
    for name in names:
        print(f"{name:<24}" + "".join(f"{cpus[m].get(name, 0.0):>14.2f}" for m in modes))
    print(f"{'stack total':<24}" + "".join(
        f"{sum(v for k, v in cpus[m].items() if k != '(this client)'):>14.2f}" for m in modes))


# -- one saga step against its bare call -------------------------------------------------------------
async def step_overhead(mongo_url: str, rounds: int, per_round: int) -> dict[str, float]:
    """Median ms of the provider's charge alone, of a saga of that one step, of a saga of two."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client["webos"]
    provider, store = SimulatedProvider(db), SagaStore(db, collection="bench_sagas")
    tag = uuid.uuid4().hex[:8]
    n = 0

    async def charge(ctx: SagaContext) -> str:
        return str(await provider.charge(f"bench:{ctx.saga_id}:{len(ctx.results)}", 1.0, "card"))

    one = Saga("bench_one", store=store).step("charge", charge)
    two = Saga("bench_two", store=store).step("charge", charge).step("charge again", charge)

    async def bare() -> None:
        await provider.charge(f"bench:{tag}:{n}", 1.0, "card")

    cases: dict[str, Callable[[], Awaitable[Any]]] = {
        "bare": bare,
        "one": lambda: one.run({"n": n}, run_id=f"bench-one-{tag}-{n}"),
        "two": lambda: two.run({"n": n}, run_id=f"bench-two-{tag}-{n}"),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    try:
        for case in cases.values():  # warm the connection pool and the collections
            for _ in range(20):
                n += 1
                await case()
        for _ in range(rounds):
            for name, case in cases.items():
                for _ in range(per_round):
                    n += 1
                    started = time.perf_counter()
                    await case()
                    times[name].append(time.perf_counter() - started)
        await db["bench_sagas"].drop()
        await db["orders_payments"].delete_many({"key": {"$regex": "^bench:"}})
    finally:
        await client.close()
    return {name: 1000 * statistics.median(values) for name, values in times.items()}


# -- nothing lost or duplicated ------------------------------------------------------------------------
def audit(mongo: Any, orders: list[Order], item: str, heard: Heard,
          admin_total: Callable[[str | None], int]) -> tuple[int, dict[str, int]]:
    """Straight from MongoDB, over every order whose `/pay` was sent: an order whose pay answered
    2xx, or whose saga run exists (a pay the gateway refused after the module took it), must be
    fulfilled once, with one completed run, one charge, one reservation; one whose pay was refused
    before its saga started must be untouched (approved, nothing charged or reserved). The number
    of orders a saga ran for, and what went wrong by kind (every count should be 0)."""
    from bson import ObjectId

    db = mongo["webos"]
    sent = [o for o in orders if "pay" in o.times and o.id]
    ids = [o.id for o in sent]
    docs = {str(d["_id"]): d for d in db["orders_orders"].find({"_id": {"$in": [ObjectId(i) for i in ids]}},
                                                                {"state": 1, "history.action": 1})}
    runs: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    for run in db["orders_sagas"].find({"saga": "order_payment"}, {"data.order_id": 1, "state": 1}):
        runs[run["data"]["order_id"]] += 1
        completed[run["data"]["order_id"]] += run["state"] == COMPLETED
    payments = Counter(p["key"].removeprefix("order:") for p in db["orders_payments"].find(
        {"state": "charged", "key": {"$regex": "^order:"}}, {"key": 1}))
    reservations = Counter(r["order_id"] for r in db["inventory_reservations"].find({"state": "reserved"},
                                                                                     {"order_id": 1}))
    item_doc = db["inventory_items"].find_one({"_id": ObjectId(item)})
    ran = {o.id for o in sent if o.paid or runs[o.id]}
    untouched = [i for i in ids if i not in ran]
    fulfils = {i: sum(h.get("action") == "fulfil" for h in docs.get(i, {}).get("history", [])) for i in ran}
    return len(ran), {
        "pay answered 2xx, no saga run": sum(1 for o in sent if o.paid and not runs[o.id]),
        "saga ran, order not fulfilled (lost)": sum(1 for i in ran if docs.get(i, {}).get("state") != "fulfilled"),
        "orders fulfilled more than once": sum(1 for c in fulfils.values() if c > 1),
        "orders with more than one saga run": sum(1 for i in ran if runs[i] > 1),
        "saga runs not completed": sum(runs.values()) - sum(completed.values()),
        "saga runs of no order of this bench": len(set(runs) - set(ids)),
        "orders without exactly one charged payment": sum(1 for i in ran if payments[i] != 1),
        "orders without exactly one reservation": sum(1 for i in ran if reservations[i] != 1),
        "units reserved minus units ordered": int(item_doc["reserved"]) - QUANTITY * len(ran),
        **{f"{topic} not heard exactly once": sum(1 for i in ran if heard.count[topic][i] != 1) for topic in STAGES},
        "pay refused, yet the order moved on or was charged": sum(
            1 for i in untouched if docs.get(i, {}).get("state") != "approved" or payments[i] or reservations[i]),
        "admin's run count minus sagas run": admin_total(None) - len(ran),
        "admin's completed runs minus sagas run": admin_total(COMPLETED) - len(ran),
    }


# -- set-up and report -----------------------------------------------------------------------------------
def people_and_item(base: str, stock: int) -> tuple[str, str, str, str]:
    """(buyer's token, approver's token, the item's id, the admin's token)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        (_, buyer), (_, approver) = make_people(client, 2, PERMISSIONS)
        admin = sign_in(client, *ADMIN)
        item = client.post("/api/inventory/items", headers={"Authorization": f"Bearer {admin}"}, json={
            "sku": f"BENCH-{uuid.uuid4().hex[:6]}", "name": "Bench widget", "price": 3.5, "on_hand": stock})
        item.raise_for_status()
        return buyer, approver, str(item.json()["id"]), admin


def ready(base: str, token: str, *, limit: float = 60.0) -> float:
    """Wait until orders and inventory answer through the gateway (the module hosts may come up after
    `webos up`; an overloaded one is marked unhealthy by the gateway and still works through requests
    the gateway gave up on); how long that took."""
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() - started < limit:
            try:
                if (client.get(SAGAS, params={"limit": 1}).status_code == 200
                        and client.get("/api/inventory/items", params={"limit": 1}).status_code == 200):
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    raise SystemExit(f"orders or inventory does not answer through the gateway after {limit:.0f} s")


async def recovered(base: str, token: str, after: str) -> None:
    """Before the next part: the modules answer again (printed when that took a while)."""
    waited = await asyncio.to_thread(ready, base, token, limit=900.0)
    if waited > 1.0:
        print(f"(the orders and inventory modules answered through the gateway again {waited:.0f} s after "
              f"{after})")


def latency_lines(label: str, run: Run, heard: Heard, *, whole: bool = True) -> list[float]:
    """Each span's p50/p99/max over the orders fulfilled, each request's, and where the time between
    `/pay` and `order:fulfilled` goes (stage by stage, as heard on the bus); submit → fulfilled."""
    done = [o for o in run.orders if "fulfilled" in o.times]
    at = {topic: [heard.at[topic].get(o.id) for o in done] for topic in STAGES}
    paid, reserved = at["order:paid"], at["stock:reserved"]
    spans = {
        "submit -> fulfilled": [o.times["fulfilled"] - o.times["submit"] for o in done],
        "pay -> fulfilled": [o.times["fulfilled"] - o.times["pay"] for o in done],
        "placed -> fulfilled": [o.times["fulfilled"] - o.scheduled for o in done if o.scheduled],
        **{f"{kind} request": values for kind, values in run.requests.items()},
        "pay sent -> order:paid": [p - o.times["pay"] for o, p in zip(done, paid, strict=True) if p],
        " -> stock:reserved": [r - p for p, r in zip(paid, reserved, strict=True) if p and r],
        " -> order:fulfilled": [o.times["fulfilled"] - r for o, r in zip(done, reserved, strict=True) if r],
    }
    print(f"\n{label}: {len(done)} of {len(run.orders)} orders fulfilled; errors {dict(run.errors) or 0}")
    print(f"{'ms':<26}{'p50':>9}{'p99':>9}{'max':>9}")
    for name, values in spans.items():
        if values and (whole or ("submit" not in name and "placed" not in name)):  # made beforehand: from pay on
            print(f"{name:<26}{pct(values, 0.5):>9.1f}{pct(values, 0.99):>9.1f}{1000 * max(values):>9.1f}")
    return spans["submit -> fulfilled"]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"


def fulfilled(run: Run) -> int:
    return sum(1 for o in run.orders if "fulfilled" in o.times)


async def steady_part(base: str, people: tuple[str, str, str], heard: Heard, meter: CpuMeter,
                      idle: dict[str, float], rate: float, seconds: float,
                      ) -> tuple[Run, list[float], dict[str, float]]:
    """`rate` orders/s for `seconds`: the run, submit → fulfilled of each order, CPU ms per order."""
    run = Run()

    async def work() -> None:
        client = Client(base, *people, run)
        async with client.session:
            await steady(client, heard, rate, seconds)

    _, cpu = await measured(meter, idle, work(), lambda: fulfilled(run))
    spans = latency_lines(f"steady {rate:.1f} orders/s for {seconds:.0f} s [load {load()}]", run, heard)
    return run, spans, cpu


async def saturated_part(base: str, people: tuple[str, str, str], heard: Heard, meter: CpuMeter,
                         idle: dict[str, float], count: int, workers: int) -> tuple[Run, float, dict[str, float]]:
    """`count` approved orders, then paid by `workers` callers: the run, sagas/s, CPU ms per saga."""
    run = Run()
    client = Client(base, *people, run)
    async with client.session:
        run.orders = await prepare(client, count, workers)
        run.requests = {}
        await asyncio.to_thread(meter.tail, sum(idle.values()))
        took, cpu = await measured(meter, idle, saturate(client, heard, run.orders, workers), lambda: fulfilled(run))
    latency_lines(f"saturated: {len(run.orders)} approved orders paid by {workers} callers [load {load()}]",
                  run, heard, whole=False)
    rate = fulfilled(run) / took
    print(f"saturated: {rate:.1f} sagas/s completed (first pay to the last order:fulfilled heard; "
          f"{len(run.requests.get('pay', []))} pays in {took:.1f} s)")
    return run, rate, cpu


async def bench(base: str, plan: Any, options: Any) -> None:
    total = 2 * int(options.rate * options.seconds) + options.saturated + 100
    buyer, approver, item, admin = people_and_item(base, stock=QUANTITY * total * 10)
    people = (buyer, approver, item)
    ready(base, admin)
    mongo, heard = mongo_of(plan), Heard()
    # one subscription for the whole run (the operator's credential, as `webos events tail`)
    async with operator_nats(target(plan.state_dir, plan.base_port, None, None, "webos", None)) as nc:
        for topic in STAGES:
            await nc.subscribe(topic_filter(topic), cb=heard.received, pending_msgs_limit=1_000_000)
        await nc.flush()
        warm = Run()
        client = Client(base, *people, warm)
        async with client.session:
            await steady(client, heard, 10, 2)
        meter = CpuMeter(plan)
        await asyncio.to_thread(meter.tail, 0.0, limit=20)
        idle = await asyncio.to_thread(meter.idle_rates)
        print(f"idle stack: {1000 * sum(idle.values()):.0f} CPU ms/s over {len(meter.procs)} processes; "
              f"load {load()}")
        steady_run, spans, steady_cpu = await steady_part(base, people, heard, meter, idle, options.rate,
                                                          options.seconds)
        await recovered(base, admin, "the steady part")
        saturated_run, sagas_per_s, saturated_cpu = await saturated_part(base, people, heard, meter, idle,
                                                                         options.saturated, options.workers)
        carried = options.carried or max(1.0, round(sagas_per_s / 4, 1))
        print(f"\nthe same at a rate this machine carries: {carried} orders/s (a whole order is four requests, "
              f"the saturated part's one: a quarter of its saga rate)")
        await recovered(base, admin, "the saturated part")
        carried_run, carried_spans, carried_cpu = await steady_part(base, people, heard, meter, idle, carried,
                                                                    options.seconds)
        cpu_lines({f"{options.rate:.0f}/s": steady_cpu, "saturated": saturated_cpu, f"{carried}/s": carried_cpu})
        stack = {m: sum(v for k, v in c.items() if k != "(this client)") for m, c in
                 (("steady", steady_cpu), ("saturated", saturated_cpu), ("carried", carried_cpu))}

        steps = await step_overhead(_mongo_url(mongo), options.rounds, 100)
        print(f"\none saga step vs its bare call, in this process on the stack's MongoDB (medians):\n"
              f"  SimulatedProvider.charge alone {steps['bare']:.2f} ms; a saga of that step {steps['one']:.2f} ms "
              f"({steps['one'] / steps['bare']:.2f}x); of two such steps {steps['two']:.2f} ms: one more step "
              f"{steps['two'] - steps['one']:.2f} ms ({(steps['two'] - steps['one']) / steps['bare']:.2f}x the bare "
              f"call)")
        pay, approve = carried_run.requests.get("pay", []), carried_run.requests.get("approve", [])
        if pay and approve:
            print(f"  /pay (the saga of two steps) vs /transition approve (a plain transition), through the "
                  f"gateway at {carried} orders/s: p50 {pct(pay, 0.5):.1f} / {pct(approve, 0.5):.1f} ms "
                  f"= {pct(pay, 0.5) / pct(approve, 0.5):.2f}x")

        def admin_total(state: str | None) -> int:
            params: dict[str, Any] = {"saga": "order_payment", "meta": "total", "limit": 1}
            if state:
                params["state"] = state
            resp = httpx.get(f"{base}{SAGAS}", params=params, headers={"Authorization": f"Bearer {admin}"},
                             timeout=30)
            resp.raise_for_status()
            return int(resp.json()["total"])

        await recovered(base, admin, "the last part")
        every = warm.orders + steady_run.orders + saturated_run.orders + carried_run.orders
        ran, found = audit(mongo, every, item, heard, admin_total)
    print(f"\nnothing lost or duplicated: {ran} sagas run, of {sum(1 for o in every if 'pay' in o.times)} pays "
          f"sent (MongoDB, the bus, the admin's saga list):")
    for what, n in found.items():
        print(f"  {what:<52}{n:>6}")
    wrong = sum(abs(n) for n in found.values())
    p99, carried_p99 = pct(spans, 0.99), pct(carried_spans, 0.99)
    print(f"\np99 submit -> fulfilled at {options.rate:.0f} orders/s: {p99:.1f} ms over {len(spans)} of "
          f"{len(steady_run.orders)} orders (goal <= {P99_GOAL:.0f} ms) = {p99 / P99_GOAL:.2f}x the goal "
          f"{'ok' if p99 <= P99_GOAL and len(spans) == len(steady_run.orders) else 'MISSED'}")
    print(f"p99 submit -> fulfilled at {carried} orders/s: {carried_p99:.1f} ms = {carried_p99 / P99_GOAL:.2f}x "
          f"the goal")
    print(f"sagas lost or duplicated: {wrong} (goal 0) {'ok' if wrong == 0 else 'MISSED'}")
    print(f"saturated: {sagas_per_s:.1f} sagas/s = {sagas_per_s / options.rate:.2f}x the goal's rate; the stack "
          f"spends {stack['carried']:.0f} CPU ms per whole order at {carried} orders/s ({stack['saturated']:.0f} "
          f"per payment saturated): {options.rate:.0f} orders/s need {options.rate * stack['carried'] / 1000:.1f} "
          f"cores, this machine has {psutil.cpu_count()} (load {load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--saturated", type=int, default=600, help="orders paid as fast as the stack takes them")
    parser.add_argument("--workers", type=int, default=16, help="callers paying side by side when saturated")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the step-overhead comparison")
    parser.add_argument("--carried", type=float, default=0, help="the rate of the last part (0: a quarter of "
                        "the saturated saga rate)")
    options = parser.parse_args()
    print(f"load before: {load()}; {psutil.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-saga-") as tmp, platform(Path(tmp) / "state") as (base, plan):
        asyncio.run(bench(base, plan, options))
    print(f"load after: {load()}")


def _mongo_url(mongo: Any) -> str:
    host, port = mongo.address
    return f"mongodb://{host}:{port}/?directConnection=true"


if __name__ == "__main__":
    main()
