"""`/m/<module>/<collection>/<id>`: a record's page (see `webos_shell.record`); an id
that names no record one may read is a plain "not found" page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_shell import collections_ui, palette_items, permissions, session
from webos_shell.collection_api import record_noun
from webos_shell.layout import frame
from webos_shell.record import RecordPage, title_of


async def record_page(request: Request, module: str, collection: str, record_id: str) -> RedirectResponse | None:
    user = await session.require(str(request.url.path), request)
    if isinstance(user, RedirectResponse):
        return user
    ref = collections_ui.find(module, collection)
    if ref is None or not permissions.can_read(user, ref.collection):
        async with frame(user, "Not found"):
            ui.label(f"There is no collection {module}/{collection} here for you.").props(
                'data-testid="record-missing"')
        return None
    page = RecordPage(ref, user, record_id)
    if not await page.load():
        async with frame(user, f"No such {record_noun(ref.collection)}"):
            ui.label(f"No {record_noun(ref.collection)} with the id {record_id!r}: it never existed, was "
                     "deleted for good, or is not shared with you.").props('data-testid="record-missing"')
            ui.link(f"Back to {ref.collection.label}", f"/m/{module}/{collection}")
        return None
    title = title_of(page.record) or record_noun(ref.collection).capitalize()
    store = app.storage.user
    store["recent"] = palette_items.remember(store.get("recent", []), page.here, title)
    async with frame(user, title):
        await page.draw()
    return None


def register() -> None:
    @ui.page("/m/{module}/{collection}/{record_id}")
    async def record(request: Request, module: str, collection: str, record_id: str) -> RedirectResponse | None:
        return await record_page(request, module, collection, record_id)
