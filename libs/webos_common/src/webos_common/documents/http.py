"""What a module's generated routes share: conditional requests (RFC 9110),
`Idempotency-Key`, and list options.

    @router.get("/items/{item_id}", response_model=ItemRead)
    async def get_item(item_id: str, service: Service, cond: Conditional) -> ItemRead:
        return cond.respond(await service.get(item_id))          # ETag; 304 on If-None-Match

    @router.patch("/items/{item_id}", response_model=ItemRead)
    async def update_item(item_id: str, item_in: ItemUpdate, service: Service, cond: Conditional) -> ItemRead:
        return cond.respond(await service.update(item_id, item_in, version=cond.version))  # 412 when stale

    @router.get("/items", response_model=Page[ItemRead])
    async def list_items(service: Service, view: ListView) -> Response:
        return view.respond(await service.list(None, **view.options))
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request, Response

from webos_common.documents.beanie_repository import etag
from webos_common.documents.idempotency import HEADER
from webos_common.documents.ports import COUNT_CAP, Page, in_process_pages
from webos_common.http.errors import NotModified, PreconditionFailed, ValidationFailed
from webos_common.http.paging import Limit, Skip

IdempotencyKey = Annotated[str | None, Header(alias=HEADER, min_length=1, max_length=200)]

T = TypeVar("T")


def _tags(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


class _Conditional:
    """The request's `If-Match` / `If-None-Match`, and the `ETag` of the answer."""

    def __init__(self, request: Request, response: Response) -> None:
        self.method = request.method
        self.if_match = request.headers.get("if-match")
        self.if_none_match = request.headers.get("if-none-match")
        self.response = response

    @property
    def version(self) -> int | None:
        """The version `If-Match` requires (None: no condition, or `*`); 412 when it names no version."""
        if self.if_match is None or self.if_match.strip() == "*":
            return None
        for tag in _tags(self.if_match):  # strong comparison: a weak tag never matches (RFC 9110 §13.1.1)
            if tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit():
                return int(tag[1:-1])
        raise PreconditionFailed("If-Match names no version of this record (expected an ETag such as \"3\")",
                                 details={"field": "If-Match", "location": "header"})

    def respond(self, item: T) -> T:
        """Tag the answer with the item's version; a GET whose If-None-Match has it is a 304."""
        tag = etag(int(getattr(item, "version", 0) or 0))
        if self.method in ("GET", "HEAD") and self.if_none_match is not None:
            tags = {t.removeprefix("W/") for t in _tags(self.if_none_match)}  # weak comparison (§13.1.2)
            if tag in tags or "*" in tags:
                raise NotModified(tag)
        self.response.headers["ETag"] = tag
        return item


async def _conditional(request: Request, response: Response) -> _Conditional:
    return _Conditional(request, response)  # an async dependency: a class or def would run in a thread pool


Conditional = Annotated[_Conditional, Depends(_conditional)]


class _ListView:
    """`skip` or `cursor` (a page's `next_cursor`: the rows after it, as cheap as the first page),
    `limit`, `meta=total` (count the rows: costs a scan; `meta=estimate`: from the collection's
    metadata where it can be; `meta=capped`: count up to `COUNT_CAP` rows, past it the page's
    `more_than` says so: what a pager needs, at the cost of the cap) and `fields=a,b` (only those fields)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def respond(self, page: Page[Any]) -> Response:
        """The page as JSON at once: FastAPI would validate every item again against the response model.
        To a reader in this process that asked for it (`in_process_pages`), the page itself and no body."""
        held = in_process_pages.get()
        if held is not None:
            held.append(page)
            return Response(status_code=200)
        return Response(page.model_dump_json(), media_type="application/json")


async def _list_view(skip: Skip = 0, limit: Limit = 50,
                     meta: Annotated[str | None, Query(pattern="^(total|estimate|capped)$")] = None,
                     fields: Annotated[str | None, Query(max_length=1000)] = None,
                     cursor: Annotated[str | None, Query(min_length=1, max_length=2000)] = None) -> _ListView:
    if cursor is not None and skip:
        raise ValidationFailed("Invalid input: skip (a cursor already says where the page starts)", details=[
            {"field": "skip", "location": "query", "type": "value_error", "message": "give skip or cursor"}])
    return _ListView({"skip": skip, "limit": limit, "total": meta == "total", "estimate": meta == "estimate",
                      "count_cap": COUNT_CAP if meta == "capped" else None, "cursor": cursor,
                      "fields": [f.strip() for f in fields.split(",") if f.strip()] if fields else None})


ListView = Annotated[_ListView, Depends(_list_view)]
