"""Keyset (search-after) pagination: a page's `next_cursor` names the position of its last row
in the list's order (its sort values and `_id`); the next page is the rows after it. Unlike
`skip`, a deep page costs what the first one does, and rows written meanwhile shift nothing.

The cursor is opaque to clients: BSON of the order and the values, base64url. The filter it
becomes is shaped for the index of the order: a range on the first sort key (which bounds the
index scan) and the tie-break as a filter on keys the index holds. `null` sorts first
ascending and last descending, as MongoDB sorts it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import bson
from bson import ObjectId
from bson.errors import BSONError

from webos_common.http.errors import ValidationFailed

Keys = Sequence[tuple[str, int]]
_SCALARS = (str, int, float, bool, datetime, ObjectId, type(None))


def _bad(why: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid input: cursor ({why})", details=[
        {"field": "cursor", "location": "query", "type": "value_error", "message": why}])


def _value(row: Mapping[str, Any], field: str) -> Any:
    value: Any = row
    for part in field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def encode(keys: Keys, row: Mapping[str, Any]) -> str:
    """The cursor after `row` in the order `keys`."""
    data = bson.encode({"s": [[f, d] for f, d in keys], "v": [_value(row, f) for f, _ in keys]})
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode(cursor: str, keys: Keys) -> list[Any]:
    """The sort values a cursor names (422 naming `cursor` when it is not one of this list's order)."""
    try:
        data = bson.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (BSONError, binascii.Error, ValueError, TypeError) as exc:
        raise _bad("not a cursor this list gave") from exc
    order, values = data.get("s"), data.get("v")
    if order != [[f, d] for f, d in keys] or not isinstance(values, list) or len(values) != len(keys):
        raise _bad("made for another order or filter; start again without it")
    if not all(isinstance(v, _SCALARS) for v in values):
        raise _bad("not a cursor this list gave")
    return values


def after(keys: Keys, values: Sequence[Any]) -> dict[str, Any]:
    """The filter of the rows strictly after `values` in the order `keys`."""
    (field, direction), value = keys[0], values[0]
    if len(keys) == 1:
        return {field: _beyond(direction, value)}
    clause: dict[str, Any] = {"$or": [{field: {"$ne": value}}, after(keys[1:], values[1:])]}
    bound = _at_or_beyond(direction, value)
    if bound is not None:
        clause = {field: bound, **clause}
    return clause


def _beyond(direction: int, value: Any) -> Any:
    if value is None:
        return {"$ne": None} if direction > 0 else {"$in": []}  # nothing sorts below null
    return {"$gt": value} if direction > 0 else {"$not": {"$gte": value}}


def _at_or_beyond(direction: int, value: Any) -> Any:
    if direction > 0:
        return None if value is None else {"$gte": value}
    return {"$eq": None} if value is None else {"$not": {"$gt": value}}  # descending, null is last


def combine(filter: Mapping[str, Any], position: Mapping[str, Any]) -> dict[str, Any]:
    """`filter` and `position` both (as one dict when their keys differ)."""
    if filter.keys() & position.keys():
        return {"$and": [dict(filter), dict(position)]}
    return {**filter, **position}
