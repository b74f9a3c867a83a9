"""Rows of several queries in one order: a read that runs one query per reach path
(`BeanieRepository.paths`) merges their sorted rows here, each row once, as MongoDB would have
sorted them (`null` first ascending, last descending)."""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterable, Sequence
from typing import Any

Keys = Sequence[tuple[str, int]]


def _compare(a: Any, b: Any) -> int:
    if a is None or b is None:
        return (a is not None) - (b is not None)
    return int(a > b) - int(a < b)


def _value(row: dict[str, Any], field: str) -> Any:
    value: Any = row
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def merged(order: Keys, lists: Iterable[list[dict[str, Any]]], *, skip: int = 0, limit: int) -> list[dict[str, Any]]:
    """Rows `skip` to `skip + limit` of the sorted `lists` merged in `order`, each `_id` once."""
    filled = [rows for rows in lists if rows]
    if len(filled) <= 1:  # the usual case: only the person's own rows
        return filled[0][skip:skip + limit] if filled else []
    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for field, direction in order:
            found = _compare(_value(a, field), _value(b, field))
            if found:
                return found * direction
        return 0

    out: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for row in heapq.merge(*lists, key=functools.cmp_to_key(compare)):
        if row["_id"] not in seen:
            seen.add(row["_id"])
            out.append(row)
            if len(out) >= skip + limit:
                break
    return out[skip:]
