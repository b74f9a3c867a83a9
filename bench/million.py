"""The grid's list path on a 1,000,000-row collection: the tasks module's list route as the
shell's grid calls it, against raw PyMongo running the same queries.

Starts a throwaway mongod and nats-server, generates the rows straight into MongoDB
(`insert_many` in batches of 10,000: ~100 owners, titles of words, statuses, priorities, tags,
due dates, 5 % in the trash, some assigned and shared, `reach` and the title's `search_words` as
the repository writes them; kept files without the words get them as the tasks module's migration
0003 writes them, timed),
creates the module's indexes as the module host does at start (`db.init_documents`: the
declared lists' indexes), then serves the tasks module's host in this process on a real socket
and asks `GET /api/tasks/tasks` with a person's token and an admin's, as the grid does (25 rows,
`skip`, `sort`, `q`, and the count it asks for):

* the first page in the grid's default order (newest first) and in each other order the grid
  offers (a column's header: due date, title, priority, status, last change), without a count, with
  the count the grid asks for, and with the exact count (`meta=total`);
* a deep page: page 2,000 by `skip` (the admin; a person's last page), and the same rows after a
  keyset `cursor` (what `next_cursor` gives);
* quick search (`q`, what the grid's search box sends: a word of the title starts with each word
  typed, any case and accent, `webos_common.documents.search`) for a common word, a rare one (in
  one title of 2,000, all person-007's: the person measured, person-017, reaches none of them) and
  one no title has.

Server time is the module host's own: from the moment the request reaches the ASGI app to its
last body byte (a wrapper around the app; uvicorn's parsing and the socket are outside it);
client time is the whole request on loopback. Baseline in the same run: the same query through
raw PyMongo (`find` + `sort` + `skip` + `limit` 26 with the scope's filter and the index the
repository names for it, none for a quick search: the planner's choice, and the count the route
runs), no HTTP, no validation. Each figure is
the median and p95 of `--reps` requests (fewer, at least 3, where they would take more than
`--budget` seconds: `n=` says how many).
Goals (issue #22): first page, sorted, owner-scoped <= 50 ms server time; quick search on an
indexed field <= 100 ms.

`--data DIR` keeps mongod's files there: a second run with the same `--rows` finds them and skips
the generation (minutes here). `--cache-gb`: WiredTiger's cache (the platform's mongod gets 0.25).

Run: `.venv/bin/python bench/million.py [--rows 1000000] [--reps 30] [--data DIR] [--cache-gb 1]
[--who person,admin] [--sorts default,title,...] [--count capped|total|none] [--parts first,counts,quick,deep]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import OperationFailure

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support.provisioning import module_backing

from webos_common.documents import db, keyset
from webos_common.documents.ports import COUNT_CAP
from webos_common.documents.queries import index_for, query_indexes
from webos_common.documents.search import SEARCH_FIELD, backfill, search_filter
from webos_common.documents.search import words as title_words
from webos_common.documents.sharing import row_reach, user_reach
from webos_common.identity import User
from webos_common.infra import MongoServer, free_port
from webos_common.security.testing import TestIssuer
from webos_common.testing.apps import serve_app

API = "/api/tasks/tasks"
PAGE = 25  # the grid's page size
OWNERS = [f"person-{n:03d}" for n in range(100)]
ROLES = ("user", "staff")
WORDS = ("report budget invoice meeting review draft plan release customer order supplier contract design "
         "test deploy backup audit payroll hiring roadmap launch website email call follow-up quote stock "
         "shipment return refund training onboarding survey feedback bug feature migration server network "
         "printer license renewal tax policy office travel booking event agenda minutes slides demo").split()
RARE = "zeppelin"  # in one title of 2,000
TAGS = [f"tag-{n}" for n in range(20)]
GOALS = {"first page": 50.0, "quick search": 100.0}


class Mongo(MongoServer):
    """The platform's mongod with a WiredTiger cache of the bench's choosing."""

    def __init__(self, data_dir: Path, cache_gb: float, **kwargs: Any) -> None:
        super().__init__(data_dir, **kwargs)
        self.cache_gb = cache_gb

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--wiredTigerCacheSizeGB") + 1] = str(self.cache_gb)
        return argv


def _row(n: int, now: datetime, rnd: random.Random) -> dict[str, Any]:
    owner = OWNERS[n % len(OWNERS)]
    created = now - timedelta(seconds=(1_000_000 - n) * 60)  # one a minute, newest last
    status = rnd.choices(("todo", "in_progress", "done"), (5, 2, 3))[0]
    words = rnd.sample(WORDS, rnd.randint(2, 5))
    if n % 2000 == 7:
        words.insert(1, RARE)
    assignees = [rnd.choice(OWNERS)] if n % 10 == 0 else []
    shares: list[dict[str, str]] = []
    if n % 20 == 0:
        shares.append({"kind": "user", "id": rnd.choice(OWNERS), "access": rnd.choice(("read", "write"))})
    if n % 100 == 0:
        shares.append({"kind": "role", "id": "staff", "access": "read"})
    deleted = created + timedelta(days=3) if n % 20 == 3 else None
    title = " ".join(words).capitalize()
    return {
        "_id": ObjectId(), "title": title, SEARCH_FIELD: title_words(title),
        "description": f"about {words[0]} and more",
        "status": status, "priority": rnd.choice(("low", "medium", "medium", "high", "urgent")),
        "due_date": now + timedelta(days=rnd.randint(-180, 180)) if n % 10 < 7 else None,
        "tags": rnd.sample(TAGS, rnd.randint(0, 3)), "completed_at": created if status == "done" else None,
        "reminded_for": None, "attachment": None, "owner_id": owner, "assignees": assignees, "shares": shares,
        "reach": row_reach(owner, assignees, shares),  # as the repository writes it
        "created_at": created, "created_by": owner, "updated_at": created + timedelta(hours=rnd.randint(0, 500)),
        "updated_by": owner, "deleted_at": deleted, "deleted_by": owner if deleted else None,
        "version": rnd.randint(1, 5)}


def generate(url: str, database: str, rows: int) -> None:
    items: Any = MongoClient(url)[database]["tasks_items"]
    have = items.estimated_document_count()
    if have >= rows:
        print(f"{have:,} rows already there")
        return
    rnd, now = random.Random(22 + have), datetime.now(UTC)
    started = time.perf_counter()
    for start in range(have, rows, 10_000):  # from where a run that was stopped left off
        items.insert_many([_row(n, now, rnd) for n in range(start, min(rows, start + 10_000))], ordered=False)
    print(f"generated {rows:,} rows in {time.perf_counter() - started:.0f}s")


async def make_indexes(url: str, database: str) -> None:
    from webos_tasks.models import Task

    client = db.mongo_client(url, timeout=30)
    started = time.perf_counter()
    items = client[database]["tasks_items"]
    declared = {model.document["name"] for model in query_indexes(Task)}
    extra = [name for name in await items.index_information() if name.startswith("webos_") and name not in declared]
    try:  # kept files: only the indexes of the code measured
        for name in extra:
            await items.drop_index(name)
            print(f"dropped {name}: the code measured declares no such list")
    except OperationFailure:  # a build a stopped run left, resumed by mongod: it goes only as a whole
        await items.drop_indexes()
        print("dropped every index: a stopped run's build was under way")
    await db.init_documents(client, database, [Task])  # what the module host does at start
    if await items.find_one({SEARCH_FIELD: {"$exists": False}}, {"_id": 1}):  # kept rows from before the words
        began = time.perf_counter()
        changed = await backfill(items, ["title"])  # what migration 0003 does
        print(f"wrote the title words of {changed:,} kept rows in {time.perf_counter() - began:.0f}s")
    print(f"indexes ready in {time.perf_counter() - started:.0f}s: "
          f"{sorted(await Task.get_pymongo_collection().index_information())}")
    await client.close()


class Timed:
    """The ASGI app, timed from the request's arrival to its last body byte."""

    def __init__(self, app: Any) -> None:
        self.app, self.last = app, 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def sending(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = time.perf_counter() - started

        await self.app(scope, receive, sending)


def figures(times: list[float]) -> str:
    ms = sorted(1000 * t for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{statistics.median(ms):7.1f} {p95:7.1f}"


class Bench:
    def __init__(self, client: httpx.AsyncClient, timed: Timed, collection: Any, reps: int, budget: float) -> None:
        self.client, self.timed, self.collection, self.reps, self.budget = client, timed, collection, reps, budget
        self.results: list[tuple[str, str, float, float]] = []

    async def route(self, headers: dict[str, str], params: dict[str, Any]) -> tuple[list[float], list[float], Any]:
        server, client, body = [], [], None
        began = time.perf_counter()
        for n in range(self.reps):
            if n >= 3 and time.perf_counter() - began > self.budget:
                break
            started = time.perf_counter()
            answer = await self.client.get(API, params=params, headers=headers)
            client.append(time.perf_counter() - started)
            server.append(self.timed.last)
            if answer.status_code != 200:
                return [], [], answer
            body = answer.json()
        return server, client, body

    async def raw(self, work: Callable[[], Awaitable[Any]]) -> list[float]:
        times: list[float] = []
        began = time.perf_counter()
        for n in range(self.reps):
            if n >= 3 and time.perf_counter() - began > self.budget:
                break
            started = time.perf_counter()
            await work()
            times.append(time.perf_counter() - started)
        return times

    async def measure(self, who: str, what: str, headers: dict[str, str], params: dict[str, Any],
                      scope: dict[str, Any], *, sort: list[tuple[str, int]], count: str | None,
                      after: dict[str, Any] | None = None) -> Any:
        server, client, body = await self.route(headers, params)
        if not server:
            print(f"{who:<7}{what:<44} refused: {body.status_code} {body.text[:120]}")
            return None
        query = keyset.combine(scope, after) if after else scope
        skip = int(params.get("skip", 0))

        from webos_tasks.models import Task

        equal = [k for k, v in scope.items() if not k.startswith("$") and not isinstance(v, dict)]
        # the index the repository names for this read, if any (none for a quick search: the planner's)
        hint = None if SEARCH_FIELD in scope else index_for(Task, scope, equal, sort)
        options = {"hint": hint} if hint else {}

        async def raw() -> None:
            await self.collection.find(query, sort=sort, skip=skip, limit=PAGE + 1, **options).to_list(PAGE + 1)
            if count == "total":
                await self.collection.count_documents(scope)
            elif count is not None:
                await self.collection.count_documents(scope, limit=int(count) + 1)

        base = await self.raw(raw)
        med_s, med_r = statistics.median(server), statistics.median(base)
        total = body.get("total")
        shown = f"total {total}" if total is not None else (
            f"more than {body['more_than']}" if body.get("more_than") else "no total")
        print(f"{who:<7}{what:<44}{figures(server)} {figures(client)} {figures(base)} {med_s / med_r:6.1f}x  "
              f"{len(body['items'])} rows, {shown}; n={len(server)}/{len(base)}", flush=True)
        self.results.append((who, what, med_s, med_r))
        return body


def _scope(user: User, filters: dict[str, Any]) -> dict[str, Any]:
    scope: dict[str, Any] = {**filters, "deleted_at": None}
    if not user.is_admin:
        scope["reach"] = {"$in": user_reach(user)}
    return scope


def _order(sort: str | None) -> list[tuple[str, int]]:
    keys = [(part.lstrip("-"), -1 if part.startswith("-") else 1) for part in (sort or "-created_at").split(",")]
    return [*keys, ("_id", keys[-1][1])]


async def run(options: argparse.Namespace, mongo_url: str) -> None:
    from webos_modulehost import create_app

    database = os.environ["WEBOS_MONGO_DB"]
    generate(mongo_url, database, options.rows)
    await make_indexes(mongo_url, database)
    issuer = TestIssuer()
    app = create_app("tasks")
    app.state.resources.verifier = issuer.verifier()
    timed = Timed(app)
    person = User(id=OWNERS[17], roles=ROLES, permissions=("tasks.read", "tasks.write"))
    admin = User(id="admin-1", roles=("admin", "user"), permissions=("*",))
    people = [(who, user, issuer.headers(user.id, roles=user.roles, permissions=user.permissions, expires_in=7200))
              for who, user in (("person", person), ("admin", admin)) if who in options.who.split(",")]
    mongo = db.mongo_client(mongo_url, timeout=30)
    collection = mongo[database]["tasks_items"]
    count = options.count
    print(f"\n{'who':<7}{'what':<44}{'server ms':>15} {'client ms':>15} {'raw PyMongo':>15} {'ratio':>7}")
    print(f"{'':<51}{'median':>7} {'p95':>7} {'median':>7} {'p95':>7} {'median':>7} {'p95':>7}"
          f"  (server / raw medians)")
    async with serve_app(timed) as url, httpx.AsyncClient(base_url=url, timeout=120) as client:
        bench = Bench(client, timed, collection, options.reps, options.budget)
        for who, user, headers in people:
            grid = {"meta": count} if count else {}
            grid_count = None if count is None else ("total" if count == "total" else str(COUNT_CAP))
            everyone = _scope(user, {})
            parts = set(options.parts.split(","))
            for sort in [None if o == "default" else o for o in options.sorts.split(",") if "first" in parts]:
                params = {"skip": 0, "limit": PAGE, **({"sort": sort} if sort else {})}
                await bench.measure(who, f"first page, {sort or 'default (-created_at)'}", headers, params, everyone,
                                    sort=_order(sort), count=None)
            for sort in (None, "due_date") if "counts" in parts else ():
                params = {"skip": 0, "limit": PAGE, **({"sort": sort} if sort else {})}
                label = f"first page, {sort or 'default'}"
                if count:
                    await bench.measure(who, f"{label}, meta={count}", headers, {**params, **grid}, everyone,
                                        sort=_order(sort), count=grid_count)
                if count != "total":
                    await bench.measure(who, f"{label}, meta=total", headers, {**params, "meta": "total"},
                                        everyone, sort=_order(sort), count="total")
            for word in ("report", RARE, "nosuchword") if "quick" in parts else ():
                title = _scope(user, search_filter(word))  # what the route's filter is
                params = {"skip": 0, "limit": PAGE, "q": word}
                if word == RARE or not count:
                    await bench.measure(who, f"quick search {word!r}", headers, params, title,
                                        sort=_order(None), count=None)
                if count:
                    await bench.measure(who, f"quick search {word!r}, meta={count}", headers, {**params, **grid},
                                        title, sort=_order(None), count=grid_count)
            if "deep" not in parts:
                continue
            reach = await collection.count_documents(everyone)
            skip = min(2000 * PAGE, (reach - 1) // PAGE * PAGE)
            order = _order(None)
            await bench.measure(who, f"page {skip // PAGE + 1} by skip ({skip:,})", headers,
                                {"skip": skip, "limit": PAGE}, everyone, sort=order, count=None)
            before = await collection.find(everyone, sort=order, skip=skip - 1, limit=1).to_list(1)
            cursor = keyset.encode(order, before[0])
            await bench.measure(who, f"page {skip // PAGE + 1} by cursor", headers,
                                {"cursor": cursor, "limit": PAGE}, everyone, sort=order, count=None,
                                after=keyset.after(order, keyset.decode(cursor, order)))
    await mongo.close()
    print(f"\ngoals: first page, sorted, owner-scoped <= {GOALS['first page']:.0f} ms server time; "
          f"quick search <= {GOALS['quick search']:.0f} ms")
    print("load:", os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--data", type=Path, default=None, help="keep mongod's files here (reused by a next run)")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds one measure may take: fewer repetitions (at least 3) past it")
    parser.add_argument("--cache-gb", type=float, default=1.0)
    parser.add_argument("--count", default="capped", help="the count the grid asks for: capped, total or none")
    parser.add_argument("--who", default="person,admin")
    parser.add_argument("--parts", default="first,counts,quick,deep",
                        help="what to time: first pages, their counts, quick search, deep pages")
    parser.add_argument("--sorts", default="default,due_date,-due_date,title,-priority,status,-updated_at",
                        help="the first page's orders (an admin's unindexed one took 30 s a request)")
    options = parser.parse_args()
    options.count = None if options.count == "none" else options.count
    print("load:", os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-million-") as tmp:
        root = Path(tmp)
        mongo = Mongo(options.data or root / "mongo", options.cache_gb, port=_port(options.data),
                      log_path=root / "mongod.log", die_with_parent=True)
        with module_backing(root, mongo, mongo_timeout=120):
            asyncio.run(run(options, mongo.url))


def _port(data: Path | None) -> int:
    """A port for mongod; with kept files, the one they were made with (the replica set's config names it)."""
    if data is None:
        return free_port()
    kept = data / "bench-port"
    if not kept.exists():
        data.mkdir(parents=True, exist_ok=True)
        kept.write_text(str(free_port()))
    return int(kept.read_text())


if __name__ == "__main__":
    main()
