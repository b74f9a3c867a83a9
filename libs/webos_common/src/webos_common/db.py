"""MongoDB through PyMongo's async client, and Beanie for the documents a
service owns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymongo
from beanie import init_beanie
from pymongo import AsyncMongoClient


def mongo_client(url: str, **options: Any) -> AsyncMongoClient[Any]:
    options.setdefault("serverSelectionTimeoutMS", 5000)
    options.setdefault("tz_aware", True)
    options.setdefault("uuidRepresentation", "standard")
    return AsyncMongoClient(url, **options)


async def init_documents(client: AsyncMongoClient[Any], db_name: str, documents: Sequence[type]) -> None:
    """Register the service's Beanie documents (creates their indexes)."""
    if documents:
        await init_beanie(database=client[db_name], document_models=list(documents))


async def ping(client: AsyncMongoClient[Any], seconds: float = 1.0) -> None:
    """Raise unless the server answers within `seconds`."""
    with pymongo.timeout(seconds):
        await client.admin.command("ping")
