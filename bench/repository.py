"""Raw PyMongo vs the WebOS repository (owner-scoped, audit-stamped,
validated into documents), in one run against a throwaway mongod:

* insert one, get by id, filtered find (a page of 50), bulk insert of 1,000.

Each figure is operations (or rows) per second over alternating chunks;
the ratio is WebOS / raw. Goals: >= 0.8x on single operations, >= 0.6x bulk.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from beanie import init_beanie

from webos_common import context
from webos_common.documents import BeanieRepository, OwnedDocument, db
from webos_common.identity import User
from webos_common.infra import MongoServer

USER = User(id="bench-user", permissions=("bench.*",))
SINGLE_OPS = 2000


class Status(StrEnum):
    todo = "todo"
    done = "done"


class Item(OwnedDocument):
    webos_module = "bench"
    title: str
    status: Status = Status.todo
    priority: int = 0
    tags: list[str] = []

    class Settings:
        indexes = [[("owner_id", 1), ("status", 1)]]


def row(i: int) -> dict[str, object]:
    return {"title": f"item {i}", "status": "todo" if i % 2 else "done", "priority": i % 5, "tags": ["a", "b"]}


def raw_doc(i: int) -> dict[str, object]:
    now = datetime.now(UTC)
    return {**row(i), "owner_id": USER.id, "created_at": now, "created_by": USER.id, "updated_at": now,
            "updated_by": USER.id, "deleted_at": None}


async def compare(raw_fn: Callable[[int], Awaitable[object]], repo_fn: Callable[[int], Awaitable[object]],
                  n: int, chunk: int = 20) -> tuple[float, float, float]:
    """Raw and repository run in alternating chunks (order flipped each time), so
    whatever else loads the machine hits both alike. Returns (raw ops/s, repo
    ops/s, ratio of the totals)."""
    spent = {raw_fn: 0.0, repo_fn: 0.0}
    done = 0
    flip = False
    while done < n:
        size = min(chunk, n - done)
        for fn in ((repo_fn, raw_fn) if flip else (raw_fn, repo_fn)):
            start = time.perf_counter()
            for i in range(done, done + size):
                await fn(i)
            spent[fn] += time.perf_counter() - start
        done += size
        flip = not flip
    raw_rate, repo_rate = n / spent[raw_fn], n / spent[repo_fn]
    return raw_rate, repo_rate, repo_rate / raw_rate


async def main(url: str) -> int:
    client = db.mongo_client(url)
    database = client["bench"]
    await database.drop_collection("bench_items")
    await database.drop_collection("raw_items")
    await init_beanie(database=database, document_models=[Item])
    raw = database["raw_items"]
    await raw.create_index("owner_id")
    await raw.create_index([("owner_id", 1), ("status", 1)])
    repo = BeanieRepository(Item)
    context.current_user.set(USER)
    results: list[tuple[str, tuple[float, float, float], float]] = []

    async def raw_insert(i: int) -> None:
        await raw.insert_one(raw_doc(i))

    async def repo_insert(i: int) -> None:
        await repo.insert(Item(**row(i)))

    # warm both paths
    for i in range(50):
        await raw_insert(i)
        await repo_insert(i)
    results.append(("insert one", await compare(raw_insert, repo_insert, SINGLE_OPS), 0.8))

    raw_ids = [d["_id"] async for d in raw.find({}, {"_id": 1}).limit(SINGLE_OPS)]
    repo_ids = [d["_id"] async for d in Item.get_pymongo_collection().find({}, {"_id": 1}).limit(SINGLE_OPS)]

    async def raw_get(i: int) -> None:
        assert await raw.find_one({"_id": raw_ids[i % len(raw_ids)], "owner_id": USER.id, "deleted_at": None})

    async def repo_get(i: int) -> None:
        await repo.get(repo_ids[i % len(repo_ids)])

    results.append(("get by id", await compare(raw_get, repo_get, SINGLE_OPS * 2), 0.8))

    async def raw_page(i: int) -> None:
        docs = await raw.find({"status": "todo", "owner_id": USER.id, "deleted_at": None},
                              skip=i % 5 * 50, limit=50).to_list(50)
        assert len(docs) == 50

    async def repo_page(i: int) -> None:
        docs = await repo.find({"status": "todo"}, skip=i % 5 * 50, limit=50)
        assert len(docs) == 50

    results.append(("find page of 50", await compare(raw_page, repo_page, 600, chunk=10), 0.8))

    async def raw_bulk(i: int) -> None:
        await raw.insert_many([raw_doc(i * 1000 + j) for j in range(1000)])

    async def repo_bulk(i: int) -> None:
        await repo.insert_many([Item(**row(i * 1000 + j)) for j in range(1000)])

    raw_b, repo_b, ratio_b = await compare(raw_bulk, repo_bulk, 16, chunk=1)
    results.append(("bulk insert 1,000 (rows/s)", (raw_b * 1000, repo_b * 1000, ratio_b), 0.6))
    await client.close()

    failed = 0
    print(f"{'operation':<28} {'raw PyMongo':>14} {'WebOS repo':>14} {'ratio':>7}  goal")
    for name, (raw_rate, repo_rate, ratio), goal in results:
        ok = ratio >= goal
        failed += not ok
        print(f"{name:<28} {raw_rate:>12,.0f}/s {repo_rate:>12,.0f}/s {ratio:>6.2f}x  >= {goal}x "
              f"{'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="webos-bench-") as tmp:
        server = MongoServer(Path(tmp) / "mongo", die_with_parent=True)
        server.start()
        try:
            code = asyncio.run(main(server.url))
        finally:
            server.stop()
    sys.exit(code)
