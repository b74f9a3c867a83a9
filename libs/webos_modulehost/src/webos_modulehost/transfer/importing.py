"""The import itself: each valid row created through the collection's own
`POST`, with an `Idempotency-Key` made of the file's digest and the row
number, so running the same file again (within the key's 24 h) creates
nothing twice; a row the route refuses joins the row errors. Rows go a batch
at a time, a few at once, and each batch reports progress."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import httpx

from webos_modulehost.transfer import jobs
from webos_modulehost.transfer.loopback import Loopback
from webos_modulehost.transfer.rows import MAX_LISTED, Checked, RowError

BATCH = 200
AT_ONCE = 8


def import_key(data: bytes, mapping: Mapping[str, str]) -> str:
    """What names one import: the file and its mapping (the same again is the same import)."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps(dict(mapping), sort_keys=True).encode())
    return digest.hexdigest()[:32]


def _refusal(number: int, response: httpx.Response) -> list[RowError]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    details = error.get("details")
    message = str(error.get("message") or f"refused ({response.status_code})")
    if isinstance(details, list) and details:
        return [RowError(number, str(d.get("field", "")), str(d.get("message", message))) for d in details
                if isinstance(d, dict)]
    return [RowError(number, "", message)]


async def run(loop: Loopback, endpoint: str, checked: Checked, key: str) -> dict[str, Any]:
    """Create the valid rows; the result counts them and lists every row error."""
    errors = list(checked.errors)
    created = 0
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(number: int, record: Any) -> list[RowError]:
        async with gate:
            response = await loop.post(endpoint, record.model_dump(mode="json", exclude_unset=True),
                                       {"Idempotency-Key": f"import-{key}-{number}"})
        return _refusal(number, response) if response.status_code >= 400 else []

    total = len(checked.valid)
    for start in range(0, total, BATCH):
        batch = checked.valid[start:start + BATCH]
        for refused in await asyncio.gather(*(one(n, r) for n, r in batch)):
            errors.extend(refused)
            created += not refused
        done = start + len(batch)
        await jobs.report(done, total, f"{done} of {total} rows")
    errors.sort(key=lambda e: e.row)
    skipped = len({e.row for e in errors})
    return {"rows": checked.total, "created": created, "skipped": skipped, "error_count": len(errors),
            "errors": [e.as_dict() for e in errors[:MAX_LISTED]]}


def summary(result: Any) -> str:
    """The notification's text: what was created and what was skipped."""
    if not isinstance(result, dict):
        return ""
    return f"{result.get('created', 0)} rows imported, {result.get('skipped', 0)} skipped"
