"""MongoDB through PyMongo's async client, and Beanie for the documents a
service owns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymongo
from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from webos_common.http.startup import redact, retry_until


def mongo_client(url: str, *, timeout: float = 1.0, **options: Any) -> AsyncMongoClient[Any]:
    """`timeout`: how long an operation waits to find a server before it fails (an outage then
    answers 503 through the shared error handling instead of hanging the request)."""
    options.setdefault("serverSelectionTimeoutMS", int(timeout * 1000))
    options.setdefault("tz_aware", True)
    options.setdefault("uuidRepresentation", "standard")
    return AsyncMongoClient(url, **options)


async def init_documents(client: AsyncMongoClient[Any], db_name: str, documents: Sequence[type]) -> None:
    """Register the service's Beanie documents and create their indexes, those of the lists they
    declare included (`documents.queries`)."""
    if documents:
        from webos_common.documents.queries import ensure_query_indexes

        await init_beanie(database=client[db_name], document_models=list(documents))
        for document in documents:
            await ensure_query_indexes(document)


async def ping(client: AsyncMongoClient[Any], seconds: float = 1.0) -> None:
    """Raise unless the server answers within `seconds`."""
    with pymongo.timeout(seconds):
        await client.admin.command("ping")


async def wait_for_mongo(client: AsyncMongoClient[Any], url: str, *, deadline: float) -> None:
    """Ping until MongoDB answers; each failure logged at WARNING naming it, then
    `DependencyUnreachable` after `deadline` seconds."""
    await retry_until(lambda: ping(client, 2.0), what=f"MongoDB at {redact(url)}", deadline=deadline,
                      retry_on=(PyMongoError,))
