"""Bulk edit of 10,000 rows through the generic bulk route (`PATCH /api/tasks/tasks/bulk`,
`BulkChanges` and `BaseService.bulk_update`), end to end.

Starts the platform as `make up` does (`webos up` in a temp state dir), makes one person with
`tasks.read`/`tasks.write` and their own token, seeds their tasks straight into MongoDB (10,000 by
default, each with a due date), and then, for each change, times one bulk edit of all of them:

* `priority`: set every row's priority (alternating `high` and `urgent`, so every row changes);
* `clear due_date`: `{"due_date": null}` on every row;
* `priority, versions`: the priority again with `versions` (id -> version), as the shell sends
  it when it holds every row's version (all or nothing: a stale row is a 412).

The route takes at most `BulkChanges`' limit of ids per request (the bench first sends all of
them in one request and prints the answer); above it the rows go in consecutive requests of the
limit, as a client of the route would send them. Each change prints: the wall time until the last
answer, the time until every outbox row it made is published (no `pending` row left in
`tasks_outbox`), CPU seconds of the tasks module host and of the whole stack (idle subtracted, up
to the stack's quiet again), and the rows found changed in MongoDB.

Baseline in the same run, on the same rows: raw PyMongo `update_many` of the same change (one call
with every id, the values the repository writes; in calls of the route's limit; and those calls each
in a transaction with one outbox-like row, what the route writes without HTTP, validation and scope,
with MongoDB's CPU), and `insert_many` of as many outbox-like event documents as rows (what one
event per row would cost the write). Ratio: the route's time to every event published over the raw
`update_many` in one call. First it prints how MongoDB runs the route's write query for one request
(docs and keys examined: the ids by `_id`, not the person's every row).

Goal (issue #22): bulk edit of 10,000 rows, one audited batch, <= 3 s (to every event published).

Run: `.venv/bin/python bench/bulk.py [--rows 10000] [--rounds 2]`
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import MongoClient
from pymongo.collection import Collection

from webos_common.documents import BulkChanges
from webos_common.documents.sharing import access_clauses
from webos_common.identity import User

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support.stack import CpuMeter, make_people, mongo_of, platform, seed

GOAL = 3.0
DUE = datetime(2027, 1, 1, tzinfo=UTC)
HOST = "module:tasks"


@dataclass
class Change:
    label: str
    values: Callable[[int], dict[str, Any]]  # round -> the change, as JSON
    versions: bool = False


CHANGES = [
    Change("priority", lambda n: {"priority": ("high", "urgent")[n % 2]}),
    Change("clear due_date", lambda n: {"due_date": None}),
    Change("priority, versions", lambda n: {"priority": ("urgent", "high")[n % 2]}, versions=True),
]


def id_limit() -> int:
    """The most ids `BulkChanges` takes in one request (its `ids` field's `max_length`)."""
    for rule in BulkChanges.model_fields["ids"].metadata:
        if hasattr(rule, "max_length"):
            return int(rule.max_length)
    raise SystemExit("BulkChanges.ids has no limit")


# -- the route --------------------------------------------------------------------
def one_request(client: httpx.Client, ids: list[str]) -> None:
    """All the rows in one request: what the route answers."""
    resp = client.patch("/api/tasks/tasks/bulk", json={"ids": ids, "changes": {"priority": "medium"}})
    print(f"one request of {len(ids)} ids: {resp.status_code} {resp.text[:240]}")


def through_route(client: httpx.Client, ids: list[str], changes: dict[str, Any],
                  versions: dict[str, int] | None, limit: int) -> tuple[int, list[float]]:
    """Every id in requests of `limit`; rows modified and each request's seconds."""
    modified, times = 0, []
    for start in range(0, len(ids), limit):
        part = ids[start:start + limit]
        body: dict[str, Any] = {"ids": part, "changes": changes}
        if versions is not None:
            body["versions"] = {i: versions[i] for i in part}
        began = time.perf_counter()
        resp = client.patch("/api/tasks/tasks/bulk", json=body)
        times.append(time.perf_counter() - began)
        if resp.status_code != 200:
            raise SystemExit(f"bulk edit answered {resp.status_code}: {resp.text[:300]}")
        modified += int(resp.json()["modified"])
    return modified, times


def wait_published(outbox: Collection[Any], limit: float = 120.0) -> None:
    started = time.monotonic()
    while outbox.count_documents({"status": "pending"}) and time.monotonic() - started < limit:
        time.sleep(0.01)


def route_run(client: httpx.Client, mongo: MongoClient[Any], meter: CpuMeter, idle: dict[str, float],
              ids: list[str], change: Change, round_: int, limit: int) -> dict[str, Any]:
    items, outbox = mongo["webos"]["tasks_items"], mongo["webos"]["tasks_outbox"]
    values = change.values(round_)
    versions = None
    if change.versions:
        versions = {str(r["_id"]): r["version"] for r in items.find({"_id": {"$in": [ObjectId(i) for i in ids]}},
                                                                        {"version": 1})}
    events_before = outbox.count_documents({})
    cpu_before, started = meter.per_process(), time.perf_counter()
    modified, times = through_route(client, ids, values, versions, limit)
    answered = time.perf_counter() - started
    wait_published(outbox)
    published = time.perf_counter() - started
    tail = meter.tail(sum(idle.values()))
    spent = time.perf_counter() - started
    cpu = {n: v - cpu_before[n] - idle[n] * spent for n, v in meter.per_process().items()}
    found = items.count_documents({"_id": {"$in": [ObjectId(i) for i in ids]}, **values})
    return {"answered": answered, "published": published, "modified": modified, "found": found,
            "requests": len(times), "slowest": max(times), "events": outbox.count_documents({}) - events_before,
            "host": cpu.get(HOST, 0.0), "stack": sum(cpu.values()), "cpu": cpu, "tail": tail}


# -- the baseline -------------------------------------------------------------------
def raw_update(items: Collection[Any], uid: str, oids: list[ObjectId], values: dict[str, Any],
               batch: int) -> tuple[int, float]:
    """The same change with PyMongo: `update_many` over the same ids (and the owner), `batch` ids a call."""
    modified, began = 0, time.perf_counter()
    for start in range(0, len(oids), batch):
        result = items.update_many({"_id": {"$in": oids[start:start + batch]}, "owner_id": uid},
                                   {"$set": {**values, "updated_at": datetime.now(UTC), "updated_by": uid},
                                    "$inc": {"version": 1}})
        modified += result.modified_count
    return modified, time.perf_counter() - began


def raw_transactions(items: Collection[Any], uid: str, oids: list[ObjectId], values: dict[str, Any],
                     batch: int) -> float:
    """As `raw_update` in calls of `batch`, each in a transaction with one outbox-like row (what the
    route writes, without HTTP, validation or the scope)."""
    outbox = items.database[f"bench_outbox_{uuid.uuid4().hex[:8]}"]
    outbox.insert_one({"_id": "first"})  # the collection exists before the transactions
    began = time.perf_counter()
    for start in range(0, len(oids), batch):
        with items.database.client.start_session() as session, session.start_transaction():
            items.update_many({"_id": {"$in": oids[start:start + batch]}, "owner_id": uid},
                              {"$set": {**values, "updated_at": datetime.now(UTC), "updated_by": uid},
                               "$inc": {"version": 1}}, session=session)
            outbox.insert_one({"_id": str(uuid.uuid4()), "status": "pending", "ids": oids[start:start + batch]},
                              session=session)
    spent = time.perf_counter() - began
    outbox.drop()
    return spent


def raw_events(mongo: MongoClient[Any], uid: str, ids: list[str]) -> float:
    """`insert_many` of one outbox-like event document per row (into a scratch collection)."""
    scratch = mongo["webos"][f"bench_outbox_{uuid.uuid4().hex[:8]}"]
    now = datetime.now(UTC)
    rows = [{"_id": str(uuid.uuid4()), "status": "pending", "created_at": now, "attempts": 0, "identity": None,
             "user": {"id": uid}, "envelope": {"id": str(uuid.uuid4()), "topic": "task:updated", "source": "tasks",
                                               "timestamp": now.isoformat(), "user_id": uid,
                                               "payload": {"id": i, "changed": ["priority"], "version": 2}}}
            for i in ids]
    began = time.perf_counter()
    scratch.insert_many(rows, ordered=False)
    spent = time.perf_counter() - began
    scratch.drop()
    return spent


def plan_of(items: Collection[Any], uid: str, oids: list[ObjectId], limit: int, roles: tuple[str, ...]) -> None:
    """How MongoDB runs the route's write query for one request (`scoped(..., write=True)`: the ids,
    live rows, and the `$or` of what the person may change), with and without a hint of `_id`."""
    query = {"_id": {"$in": oids[:limit]}, "deleted_at": None,
             "$or": access_clauses(User(id=uid, roles=roles), write=True)}
    for hint in (None, [("_id", 1)]):
        found = items.find(query, hint=hint) if hint else items.find(query)
        stats = found.explain()["executionStats"]
        print(f"write query of {limit} ids{' (hint _id)' if hint else ''}: {stats['totalDocsExamined']} docs and "
              f"{stats['totalKeysExamined']} keys examined, {stats['executionTimeMillis']} ms")


# -- a run ----------------------------------------------------------------------------
def prepare(items: Collection[Any], oids: list[ObjectId], change: Change, round_: int) -> None:
    """Every row away from the value the change sets (a due date back on each row)."""
    values = change.values(round_)
    if "due_date" in values:
        items.update_many({"_id": {"$in": oids}}, {"$set": {"due_date": DUE}})
    else:
        items.update_many({"_id": {"$in": oids}}, {"$set": {"priority": "low"}})


def report(change: Change, r: dict[str, Any], raw: tuple[int, float, float], batched: tuple[float, float, float],
           events: float, rows: int, limit: int) -> None:
    mark = "ok" if r["published"] <= GOAL else "MISSED"
    top = sorted(r["cpu"].items(), key=lambda kv: -kv[1])[:4]
    print(f"{change.label:<20}{r['requests']:>5} req {r['answered']:>7.2f}s answered {r['published']:>7.2f}s "
          f"published (goal <= {GOAL:.0f} s: {mark}); slowest request {r['slowest']:.2f}s; "
          f"{r['events']} outbox rows; modified {r['modified']}, found changed {r['found']} of {rows}")
    print(f"{'':<20}CPU: host {r['host']:.2f}s, stack {r['stack']:.2f}s (quiet {r['tail']:.1f}s after); top "
          + ", ".join(f"{n} {s:.2f}" for n, s in top))
    print(f"{'':<20}raw update_many {raw[1]:.3f}s (modified {raw[0]}, mongodb CPU {raw[2]:.2f}s); "
          f"ratio route/raw {r['published'] / raw[1]:.1f}x")
    print(f"{'':<20}raw in calls of {limit}: {batched[0]:.3f}s; each in a transaction with an outbox row: "
          f"{batched[1]:.3f}s (mongodb CPU {batched[2]:.2f}s); insert_many of {rows} outbox-like events "
          f"{events:.3f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    limit = id_limit()
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp, platform(Path(tmp) / "state") as (base, plan):
        with httpx.Client(base_url=base, timeout=60) as client:
            people = make_people(client, 1)
        uid, token = people[0]
        mongo = mongo_of(plan)
        items = mongo["webos"]["tasks_items"]
        seed(mongo, people, options.rows)
        oids = [r["_id"] for r in items.find({"owner_id": uid}, {"_id": 1})]
        ids = [str(o) for o in oids]
        meter = CpuMeter(plan)
        meter.tail(0.0, limit=20)  # let the seeding settle
        idle = meter.idle_rates()
        plan_of(items, uid, oids, limit, ("user", "bench"))
        print(f"{len(ids)} rows; idle stack {1000 * sum(idle.values()):.0f} CPU ms/s; "
              f"BulkChanges takes at most {limit} ids per request")
        with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
            one_request(client, ids)
            for round_ in range(options.rounds):
                print(f"\nround {round_ + 1}")
                for change in CHANGES:
                    prepare(items, oids, change, round_)
                    result = route_run(client, mongo, meter, idle, ids, change, round_, limit)
                    prepare(items, oids, change, round_ + 1)
                    mongo_cpu = meter.per_process().get("mongodb", 0.0)
                    raw = raw_update(items, uid, oids, change.values(round_), len(oids))
                    mongo_cpu = meter.per_process().get("mongodb", 0.0) - mongo_cpu
                    prepare(items, oids, change, round_ + 1)
                    batched = raw_update(items, uid, oids, change.values(round_), limit)[1]
                    prepare(items, oids, change, round_ + 1)
                    mongo_tx = meter.per_process().get("mongodb", 0.0)
                    in_tx = raw_transactions(items, uid, oids, change.values(round_), limit)
                    mongo_tx = meter.per_process().get("mongodb", 0.0) - mongo_tx
                    report(change, result, (*raw, mongo_cpu), (batched, in_tx, mongo_tx), raw_events(mongo, uid, ids),
                           len(ids), limit)


if __name__ == "__main__":
    main()
