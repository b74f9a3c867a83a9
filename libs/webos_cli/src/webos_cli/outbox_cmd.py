"""`webos events refused [--module M] [--topic T] [--replay]`: the outbox rows NATS refused.

A module host's outbox relay sets aside a row whose subject NATS refuses it (a missing publish
permission) as `refused` and goes on with the others (`webos_common.documents.outbox`). This
lists them (JSON lines, oldest first) from each `<module>_outbox` collection, and `--replay`
makes them pending again once the permission is fixed: the module's relay sends them at its
next round, in their first order.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pymongo.errors import PyMongoError

from webos_cli.ops import BasePort, MongoDb, MongoUrl, StateDir, run, target
from webos_common.documents.db import mongo_client
from webos_common.documents.outbox import Outbox

SUFFIX = "_outbox"


def refused(module: list[str] = typer.Option([], "--module", "-m", help="Only these modules (repeatable)."),
            topic: str | None = typer.Option(None, "--topic", help="Only this topic (`entity:action`)."),
            replay: bool = typer.Option(False, "--replay", help="Make them pending again (the relay sends them)."),
            state_dir: Path = StateDir, base_port: int = BasePort, mongo_url: str | None = MongoUrl,
            db_name: str = MongoDb) -> None:
    """List the events NATS refused a module's outbox (or replay them)."""
    t = target(state_dir, base_port, None, mongo_url, db_name, None)

    async def work() -> None:
        client = mongo_client(t.mongo_url, timeout=5.0)
        try:
            database = client[t.db_name]
            names = sorted(n.removesuffix(SUFFIX) for n in await database.list_collection_names()
                           if n.endswith(SUFFIX))
            for name in [n for n in names if not module or n in module]:
                outbox = Outbox(database, service=name)
                if replay:
                    typer.echo(f"{name}: {await outbox.replay_refused(topic)} event(s) pending again")
                    continue
                for row in await outbox.refused(limit=10_000):
                    if topic is None or row["envelope"]["topic"] == topic:
                        typer.echo(json.dumps({"module": name, "id": row["_id"], "topic": row["envelope"]["topic"],
                                               "created_at": row["created_at"], "refused_at": row.get("refused_at"),
                                               "reason": row.get("reason")}, default=str))
        finally:
            await client.close()

    try:
        run(work)
    except PyMongoError as exc:
        typer.echo(f"error: cannot reach MongoDB: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(3) from exc
