"""Schema migrations: `<package>/migrations/NNNN_name.py`, each with
`async def up(db)`; applied in name order, once, recorded in
`<module>_migrations`. Replicas starting together take a lock, so each
migration runs once; a failing one stops the start with its name."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger
from pymongo.errors import DuplicateKeyError

LOCK_ID = "__lock__"
STALE_LOCK = timedelta(minutes=5)
_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.py$")


class MigrationError(RuntimeError):
    """A migration failed or cannot be loaded; the module must not start."""


def discover(folder: Path | None) -> list[Path]:
    if folder is None:
        return []
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name))


async def run_pending(module: str, folder: Path | None, db: Any, *, wait: float = 120.0) -> list[str]:
    """Apply every migration not yet recorded; return the ids applied now."""
    files = discover(folder)
    if not files:
        return []
    records = db[f"{module}_migrations"]
    await _lock(records, wait)
    try:
        done = {row["_id"] async for row in records.find({"_id": {"$ne": LOCK_ID}}, {"_id": 1})}
        applied = []
        for path in files:
            mid = path.stem
            if mid in done:
                continue
            up = _load(module, path)
            logger.info("module {}: applying migration {}", module, mid)
            try:
                await up(db)
            except Exception as exc:
                raise MigrationError(f"module {module!r}: migration {mid} failed: {type(exc).__name__}: {exc}") \
                    from exc
            await records.insert_one({"_id": mid, "applied_at": datetime.now(UTC)})
            applied.append(mid)
        return applied
    finally:
        await records.delete_one({"_id": LOCK_ID})


def _load(module: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"webos_migration_{module}_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise MigrationError(f"module {module!r}: cannot load migration {path.name}")
    code = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(code)
    except Exception as exc:
        raise MigrationError(f"module {module!r}: migration {path.stem} does not import: {exc}") from exc
    up = getattr(code, "up", None)
    if up is None:
        raise MigrationError(f"module {module!r}: migration {path.stem} has no `async def up(db)`")
    return up


async def _lock(records: Any, wait: float) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        now = datetime.now(UTC)
        await records.delete_one({"_id": LOCK_ID, "at": {"$lt": now - STALE_LOCK}})
        try:
            await records.insert_one({"_id": LOCK_ID, "at": now, "by": socket.gethostname()})
            return
        except DuplicateKeyError:
            if asyncio.get_running_loop().time() > deadline:
                raise MigrationError("another host holds the migration lock for too long") from None
            await asyncio.sleep(0.2)


async def pending(module: str, folder: Path | None, db: Any) -> list[str]:
    """The ids of the migrations not applied yet, in the order they would run."""
    done = {row["_id"] async for row in db[f"{module}_migrations"].find({"_id": {"$ne": LOCK_ID}}, {"_id": 1})}
    return [p.stem for p in discover(folder) if p.stem not in done]


async def run_standalone(module: str, folder: Path | None, mongo_url: str, db_name: str, *,
                         dry_run: bool = False) -> list[str]:
    """`webos-module-host <name> --migrate [--dry-run]`: apply (or only list) the pending migrations
    and return, with no server and no probe (the Helm chart's pre-upgrade Job, `webos migrate`)."""
    from webos_common.documents import db

    client = db.mongo_client(mongo_url, timeout=10.0, appname=f"{module}-migrations")
    try:
        if dry_run:
            return await pending(module, folder, client[db_name])
        return await run_pending(module, folder, client[db_name])
    finally:
        await client.close()
