"""Calls to the host's own routes in-process, as a person already verified.

An import creates each row with the collection's `POST`, and an export reads
its `GET` page by page (each page handed over as it is, not as JSON), so both
keep what the module's routes do (its validation, filters, sharing rules,
idempotency, events) without knowing it.
The person travels in the ASGI scope (`IN_PROCESS_USER`), which no network
request can set, so a job outlives the token that started it.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from webos_common.clients.base import raise_for_error
from webos_common.documents.ports import Page, in_process_pages
from webos_common.identity import User
from webos_common.security.deps import IN_PROCESS_USER


class Loopback:
    def __init__(self, app: ASGIApp, user: User) -> None:
        async def as_person(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, IN_PROCESS_USER: user}, receive, send)

        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=as_person), base_url="http://in-process",
                                      timeout=60.0)

    async def __aenter__(self) -> Loopback:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()

    async def get(self, path: str, params: dict[str, Any]) -> Any:
        response = await self.http.get(path, params=params)
        raise_for_error(response, service="the collection")
        return response.json()

    async def page(self, path: str, params: dict[str, Any]) -> Any:
        """A page of a list route: as the route's `ListView` hands it over in-process (its rows as
        MongoDB gave them, no JSON encoded and decoded again), else as its JSON."""
        held: list[Page[Any]] = []
        handing = in_process_pages.set(held)
        try:
            response = await self.http.get(path, params=params)
        finally:
            in_process_pages.reset(handing)
        raise_for_error(response, service="the collection")
        if held:
            page = held.pop()  # emptied: a task the request started keeps its context, and so the list
            return {"items": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}
        return response.json()

    async def post(self, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(path, json=body, headers=headers)
