"""Pagination parameters every list shares: `skip` and `limit`, bounded, so a
number beyond what MongoDB takes is a 422 naming the parameter, never a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_SKIP = 2**31 - 1
MAX_LIMIT = 10_000  # an upper bound for the schema; each list caps lower itself

Skip = Annotated[int, Query(ge=0, le=MAX_SKIP, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items at most (the list may cap it lower)")]
