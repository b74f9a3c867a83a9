"""Export of a collection to CSV: rows per second and memory, on a throwaway
mongod and nats-server, with the tasks module's host in this process.

Seeds 100,000 tasks of one person straight into MongoDB, then, alternating
(order flipped each run, so the machine's load hits both alike):

* **export** — `GET /api/tasks/tasks/export?format=csv`, the route every
  collection gets (`webos_modulehost.transfer`): the list route read page
  after page with its keyset cursor (each page handed over in-process, not
  as JSON), each page written as CSV, streamed;
* **baseline** — raw PyMongo over the same rows (one cursor, batch 1,000,
  owner-scoped, newest first) written with the csv module: the floor of what
  any export costs here.

Prints rows/s of each, the ratio export / baseline, and memory: this
process's resident set before the export, its peak while exporting (sampled
every 20 ms) and the growth (flat memory: the growth must not follow the row
count; compare `--rows 20000`). Goal (issue 17): ≥ 20,000 rows/s.

Run: `.venv/bin/python bench/export.py [--rows 100000] [--runs 2]`
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from bson import ObjectId
from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support.provisioning import module_backing

from webos_common.documents import db
from webos_common.infra import MongoServer
from webos_common.security.testing import TestIssuer
from webos_common.testing.apps import serve_app

USER = "bench-user"


class Peak:
    """This process's resident set, sampled while a block runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss

    async def sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.process.memory_info().rss)
            await asyncio.sleep(0.02)


def seed(url: str, database: str, rows: int) -> None:
    collection: Any = MongoClient(url)[database]["tasks_items"]
    now = datetime.now(UTC)
    for start in range(0, rows, 10_000):
        collection.insert_many([
            {"_id": ObjectId(), "title": f"task {n}", "description": "bench row, with a comma", "status": "todo",
             "priority": ("low", "medium", "high")[n % 3], "due_date": now + timedelta(days=n % 30),
             "tags": ["bench", f"t{n % 7}"], "completed_at": None, "reminded_for": None, "attachment": None,
             "owner_id": USER, "assignees": [], "shares": [], "created_at": now - timedelta(seconds=n),
             "created_by": USER, "updated_at": now, "updated_by": USER, "deleted_at": None, "deleted_by": None,
             "version": 1} for n in range(start, min(rows, start + 10_000))], ordered=False)


async def export(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, float, Peak]:
    peak = Peak()
    sampler = asyncio.create_task(peak.sample())
    started = time.perf_counter()
    lines = 0
    async with client.stream("GET", "/api/tasks/tasks/export", params={"format": "csv"}, headers=headers) as answer:
        assert answer.status_code == 200, await answer.aread()
        async for chunk in answer.aiter_bytes():
            lines += chunk.count(b"\n")
    spent = time.perf_counter() - started
    sampler.cancel()
    return lines - 1, spent, peak


async def baseline(url: str, database: str) -> tuple[int, float]:
    client = db.mongo_client(url)
    started = time.perf_counter()
    out = io.StringIO()
    writer = csv.writer(out)
    rows = 0
    cursor = client[database]["tasks_items"].find({"owner_id": USER, "deleted_at": None},
                                                  sort=[("created_at", -1), ("_id", -1)], batch_size=1000)
    async for doc in cursor:
        writer.writerow([doc["_id"], doc["title"], doc["description"], doc["status"], doc["priority"],
                         doc["due_date"], "; ".join(doc["tags"]), doc["created_at"], doc["updated_at"]])
        rows += 1
        if rows % 1000 == 0:
            out.seek(0)
            out.truncate()
    spent = time.perf_counter() - started
    await client.close()
    return rows, spent


async def run(rows: int, runs: int, mongo_url: str, nats_url: str) -> None:
    from webos_modulehost import create_app

    database = os.environ["WEBOS_MONGO_DB"]
    seed(mongo_url, database, rows)
    print(f"seeded {rows} rows")
    issuer = TestIssuer()
    app = create_app("tasks")
    app.state.resources.verifier = issuer.verifier()
    headers = issuer.headers(USER, permissions=("tasks.read", "tasks.write"))
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=300) as client:  # a real socket:
        # httpx's in-process transport would keep the whole streamed body in memory
        results: dict[str, list[float]] = {"export": [], "baseline": []}
        for turn in range(runs):
            order = ("export", "baseline") if turn % 2 == 0 else ("baseline", "export")
            for what in order:
                if what == "export":
                    count, spent, peak = await export(client, headers)
                    print(f"export   {count} rows in {spent:.2f}s = {count / spent:,.0f} rows/s; RSS before "
                          f"{peak.before / 2**20:.0f} MiB, peak {peak.peak / 2**20:.0f} MiB "
                          f"(+{(peak.peak - peak.before) / 2**20:.0f} MiB)")
                else:
                    count, spent = await baseline(mongo_url, database)
                    print(f"baseline {count} rows in {spent:.2f}s = {count / spent:,.0f} rows/s (raw PyMongo + csv)")
                assert count == rows, f"{what} gave {count} rows, not {rows}"
                results[what].append(count / spent)
    best = {k: max(v) for k, v in results.items()}
    print(f"best: export {best['export']:,.0f} rows/s, baseline {best['baseline']:,.0f} rows/s, "
          f"ratio {best['export'] / best['baseline']:.2f} (goal: export >= 20,000 rows/s)")
    print("load:", os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        mongo = MongoServer(root / "mongo", log_path=root / "mongod.log", die_with_parent=True)
        with module_backing(root, mongo) as nats_url:
            asyncio.run(run(options.rows, options.runs, mongo.url, nats_url))


if __name__ == "__main__":
    main()
