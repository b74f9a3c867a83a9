"""Leftovers of interrupted uploads: swept at start and periodically (see the settings)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from loguru import logger

from webos_common.files.afs import DataSource


async def sweep_stale_uploads(sources: Mapping[str, DataSource], *, older_than: float) -> dict[str, int]:
    """Each source that keeps upload leftovers removes those untouched for `older_than` seconds."""
    removed: dict[str, int] = {}
    for source in sources.values():
        sweep = getattr(source, "sweep_stale_uploads", None)
        if sweep is None or getattr(source, "available", True) is False:
            continue  # a source that is down is swept once it is back (main.py)
        try:
            removed[source.id] = count = await sweep(older_than)
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            logger.warning("storage: sweeping upload leftovers of {} failed: {}", source.id, exc)
            continue
        if count:
            logger.warning("storage: removed {} leftover(s) of interrupted uploads from {}", count, source.id)
    return removed


async def sweep_periodically(sources: Mapping[str, DataSource], *, older_than: float, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await sweep_stale_uploads(sources, older_than=older_than)
