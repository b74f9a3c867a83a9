"""Export of a collection's whole filtered list, streamed: the list route read
page after page with its keyset cursor (`cursor` / `next_cursor`, only the
exported `fields`), each page handed over in-process as MongoDB gave its rows
(`Loopback.page`), encoded and let go before the next is read, so memory stays
flat whatever the row count. The route keeps its filters and the person's reach;
the cells are what its JSON would have said (`tables.table`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from webos_common.documents.ports import in_process_cap
from webos_modulehost.transfer import jobs
from webos_modulehost.transfer.loopback import Loopback
from webos_modulehost.transfer.tables import CsvEncoder, XlsxSink

PAGE = 1000  # rows per page read in-process (a network request gets 100 at most: `in_process_cap`)
# query parameters that shape the export itself; every other one is the list's filter
OWN_PARAMS = {"format", "fields", "cursor", "skip", "limit", "meta"}
INTERNAL = {"shares", "revision_id"}


def columns_of(read: type[BaseModel], fields: str | None) -> list[str]:
    """The exported columns: those asked for (each a read field; `id` first), else every read field."""
    known = list(read.model_fields)
    if fields:
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
        return ["id", *[f for f in wanted if f != "id"]] if "id" in known else wanted
    return [f for f in known if f not in INTERNAL]


def filters_of(query: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in query.items() if k not in OWN_PARAMS}


async def probe(loop: Loopback, endpoint: str, filters: Mapping[str, str], columns: list[str], *,
                count: bool = False) -> int:
    """The list asked for one row of the export, so a filter or field it refuses is its 4xx (naming
    the parameter) at request time, not a failure after the stream or the job began; with `count`,
    the number of rows (else 0)."""
    params = {**filters, "limit": 1, "fields": ",".join(columns), **({"meta": "total"} if count else {})}
    first = await loop.get(endpoint, params)
    return int(first.get("total") or 0) if isinstance(first, dict) else 0


async def pages(loop: Loopback, endpoint: str, filters: Mapping[str, str], columns: list[str],
                ) -> AsyncIterator[list[dict[str, Any]]]:
    """Each page of the filtered list, in the list's order, after the last one's cursor."""
    params: dict[str, Any] = {**filters, "limit": PAGE, "fields": ",".join(columns)}
    seen = 0
    while True:
        capped = in_process_cap.set(PAGE)
        try:
            body = await loop.page(endpoint, params)
        finally:
            in_process_cap.reset(capped)
        items = body.get("items", []) if isinstance(body, dict) else list(body)
        if items and not isinstance(items[0], Mapping):  # a route that gave its models, not the fields
            items = to_jsonable_python(items)
        if items:
            yield items
        seen += len(items)
        if not isinstance(body, dict) or not body.get("has_more") or not items:
            return
        cursor = body.get("next_cursor")
        params.pop("skip", None)
        params.update({"cursor": cursor} if cursor else {"skip": seen})  # an unsorted list pages by skip


async def csv_stream(loop: Loopback, endpoint: str, filters: Mapping[str, str], columns: list[str],
                     *, progress: bool = False, total: int = 0) -> AsyncIterator[bytes]:
    encoder = CsvEncoder(columns)
    yield encoder.header()
    done = 0
    async for page in pages(loop, endpoint, filters, columns):
        yield encoder.rows(page)
        done += len(page)
        if progress and done % (PAGE * 5) == 0:
            await jobs.report(done, total, f"{done} of {total} rows")


async def xlsx_stream(loop: Loopback, endpoint: str, filters: Mapping[str, str], columns: list[str],
                      *, progress: bool = False, total: int = 0) -> AsyncIterator[bytes]:
    sink = XlsxSink(columns)
    done = 0
    async for page in pages(loop, endpoint, filters, columns):
        await asyncio.to_thread(sink.add, page)
        done += len(page)
        if progress and done % (PAGE * 5) == 0:
            await jobs.report(done, total, f"{done} of {total} rows")
    spool = await asyncio.to_thread(sink.finish)
    try:
        while chunk := await asyncio.to_thread(spool.read, 256 * 1024):
            yield chunk
    finally:
        spool.close()


def stream(fmt: str, loop: Loopback, endpoint: str, filters: Mapping[str, str], columns: list[str],
           **options: Any) -> AsyncIterator[bytes]:
    encode = csv_stream if fmt == "csv" else xlsx_stream
    return encode(loop, endpoint, filters, columns, **options)
