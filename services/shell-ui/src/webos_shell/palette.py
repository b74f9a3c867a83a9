"""The command palette (Ctrl+K): a dialog with one input and a ranked
list. Arrow keys move, Enter runs, Escape closes; everything is reachable
without a mouse. Records come from modules that declare a search endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nicegui import app, ui
from nicegui.events import GenericEventArguments

from webos_common.clients.session import ApiError, SessionExpired
from webos_common.identity import User
from webos_shell import palette_items, permissions, runtime, theming
from webos_shell.palette_items import PaletteItem

_OPEN_JS = (Path(__file__).parent / "palette.js").read_text()
# The dialog's closing (Escape, a click outside) is also kept in the browser at once, so Ctrl+K reopens it.
_CLOSED_JS = "(open) => { mounted_app.elements[window.webosPalette.dialog].props['model-value'] = open; }"
OPEN = "() => webosOpenPalette()"


def _searches(user: User) -> list[tuple[str, str, str]]:
    """(module, gateway path, view path) to search: a module's declared search
    endpoint, else each collection it lets this person read (`?q=`)."""
    rt = runtime.get()
    found = []
    for manifest in rt.registry.modules() if rt.registry else []:
        if manifest.search_endpoint and user.has_permission(f"{manifest.name}.read"):
            found.append((manifest.name, manifest.search_endpoint, f"/m/{manifest.name}"))
            continue
        for collection in manifest.collections:
            if permissions.can_read(user, collection):
                found.append((manifest.name, collection.endpoint, f"/m/{manifest.name}/{collection.name}"))
    return found


def record_path(view: str, record_id: str) -> str:
    """A record result's page: `/m/<module>/<collection>/<id>`, or through `/m/<module>?id=` (its
    first collection's) for a module's own search endpoint."""
    if view.count("/") >= 3:
        return f"{view}/{quote(record_id, safe='')}"
    return f"{view}?id={quote(record_id, safe='')}"


async def _records(user: User, query: str) -> list[PaletteItem]:
    rt = runtime.get()

    async def one(module: str, endpoint: str, view: str) -> list[PaletteItem]:
        try:
            body = await rt.gateway.get(app.storage.user, endpoint, q=query, limit=5)
        except (ApiError, OSError):
            return []
        items = []
        for rec in (body.get("items", []) if isinstance(body, dict) else body or [])[:5]:
            label = str(rec.get("label") or rec.get("title") or rec.get("name") or rec.get("id"))
            path = rec.get("path") or record_path(view, str(rec.get("id")))
            items.append(PaletteItem(f"record:{module}:{rec.get('id')}", label, "Records", path=path,
                                     module=module, icon="description"))
        return items

    found = await asyncio.gather(*(one(*search) for search in _searches(user)))
    return [item for items in found for item in items]


async def run(item: PaletteItem) -> None:
    rt = runtime.get()
    store = app.storage.user
    if item.action == "navigate" and item.path:
        store["recent"] = palette_items.remember(store.get("recent", []), item.path, item.label)
        ui.navigate.to(item.path)
    elif item.action == "form" and item.module and item.collection:
        from webos_shell import forms

        await forms.open_create(item.module, item.collection)
    elif item.action == "theme":
        await theming.toggle_dark()
    elif item.action == "api" and item.path:
        try:
            await rt.gateway.send(store, item.method, item.path)
            ui.notify(f"{item.label}: done", type="positive")
        except SessionExpired:
            ui.navigate.to("/login")
        except ApiError as exc:
            ui.notify(f"{item.label}: {exc}", type="negative")


def install(user: User) -> None:
    """Add the palette to the page; the browser opens it (Ctrl+K, or `OPEN` as a click's handler)."""
    rt = runtime.get()
    state: dict[str, Any] = {"items": [], "results": [], "selected": 0, "query": ""}

    with ui.dialog().props('data-testid="palette"') as dialog, ui.card().classes("w-[36rem] max-w-full p-2"):
        box = ui.input(placeholder="Type a command, a page or a record…").props(
            'autofocus outlined dense clearable data-testid="palette-input"').classes("w-full")

        @ui.refreshable
        def results() -> None:
            with ui.list().props("dense separator").classes("w-full"):
                if not state["results"]:
                    ui.item("Nothing matches").props("disable")
                for index, item in enumerate(state["results"]):
                    active = index == state["selected"]
                    with ui.item(on_click=lambda i=item: choose(i)).props(
                            f'clickable {"active" if active else ""} data-testid="palette-item"'
                    ).classes("bg-primary/10" if active else ""):
                        with ui.item_section().props("avatar"):
                            ui.icon(item.icon)
                        ui.item_section(item.label)
                        ui.item_section(item.group).props("side")

        results()

    def refresh(query: str) -> None:
        state["query"] = query
        state["results"] = palette_items.search(query, state["items"])
        state["selected"] = 0
        results.refresh()

    async def changed(query: str) -> None:
        query = query or ""
        refresh(query)
        if len(query.strip()) >= 2:
            records = await _records(user, query)
            if records and state["query"] == query:
                state["results"] = (state["results"] + records)[:15]
                results.refresh()

    def move(step: int) -> None:
        if state["results"]:
            state["selected"] = (state["selected"] + step) % len(state["results"])
            results.refresh()

    async def choose(item: PaletteItem) -> None:
        dialog.close()
        await run(item)

    async def enter(e: GenericEventArguments) -> None:
        # typed and Enter at once: rank what the box holds in the browser now (its value update
        # may reach the server after this key)
        held = e.args if isinstance(e.args, str) else (box.value or "")
        if held != state["query"]:
            refresh(held)
        if state["results"]:
            await choose(state["results"][state["selected"]])

    box.on_value_change(lambda e: asyncio.create_task(changed(e.value)))
    box.on("keydown.down.prevent", lambda: move(1))
    box.on("keydown.up.prevent", lambda: move(-1))
    box.on("keydown.enter", enter, js_handler="(e) => emit(e.target.value)")

    def rebuild() -> None:
        modules = rt.registry.modules() if rt.registry else []
        state["items"] = palette_items.build(user, modules, app.storage.user.get("recent", []))
        state["built"] = rt.registry.version if rt.registry else 0
        refresh(state["query"])

    def opened() -> None:
        # The browser has opened it already; rebuilt only when the registry changed, so opening costs nothing.
        if state.get("built") != (rt.registry.version if rt.registry else 0):
            rebuild()
        dialog.open()

    def closed(open_: bool) -> None:
        if open_:
            return
        if box.value:
            box.value = ""  # ready for the next opening; the browser keeps what is typed from then on
        elif state["selected"] or state["query"]:
            refresh("")

    rebuild()
    dialog.on_value_change(lambda e: closed(bool(e.value)))
    dialog.on("update:model-value", js_handler=_CLOSED_JS)
    ui.on("webos_palette", opened)
    ui.add_body_html(f"<script>window.webosPalette = {{dialog: {dialog.id}, box: {box.id}}};\n{_OPEN_JS}</script>")
