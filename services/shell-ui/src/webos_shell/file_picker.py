"""A dialog to pick a file from the AFS (the AutoForm's `file` fields, a module
view's `ctx.pick_file`): it opens in the person's home (or a folder given), walks
folders, and answers the chosen file's URN and name; closed without a choice, it
says so (`on_cancel`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.files.afs import folder_urn, parent_urn, split_urn
from webos_shell import endpoints, runtime

LIST_LIMIT = 500


def sorted_items(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Folders first, then by name (case-insensitive)."""
    return sorted(items, key=lambda i: (not i.get("is_dir"), str(i.get("name") or "").casefold()))


def accepted(name: str, accept: Iterable[str]) -> bool:
    """A file offered: any when `accept` is empty, else one whose name ends with one of them."""
    endings = tuple(a.lower() for a in accept)
    return not endings or name.lower().endswith(endings)


async def open_picker(on_pick: Callable[[str, str], Any], *, start: str | None = None,
                      accept: Iterable[str] = (), on_cancel: Callable[[], Any] | None = None) -> None:
    """`on_pick(urn, name)` with the file chosen; `on_cancel()` when the dialog closes without one
    (Cancel, Escape, a click beside it)."""
    gateway, store = runtime.get().gateway, app.storage.user
    accept = tuple(accept)
    only = f" ({', '.join(accept)})" if accept else ""
    if start is None:
        try:
            sources = await gateway.get(store, endpoints.STORAGE_SOURCES)
        except (ApiError, OSError):
            sources = {}
        start = folder_urn(str(sources.get("home") or "fs://local/")) if isinstance(sources, dict) else None
    here = {"folder": start or "fs://local/"}
    with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full").props('data-testid="file-picker"'):
        title = ui.label("").classes("font-medium")
        listing = ui.column().classes("w-full gap-0 max-h-96 overflow-y-auto")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props('flat data-testid="picker-cancel"')
    picked = {"done": False}

    def closed(open_: bool) -> None:
        if not open_ and not picked["done"] and on_cancel is not None:
            picked["done"] = True
            on_cancel()

    dialog.on_value_change(lambda e: closed(bool(e.value)))

    async def show(folder: str) -> None:
        here["folder"] = folder
        title.text = f"Pick a file{only} · {folder}"
        listing.clear()
        try:
            page = await gateway.get(store, endpoints.STORAGE_FILES, urn=folder, limit=LIST_LIMIT)
        except (ApiError, OSError) as exc:
            with listing:
                ui.label(f"Cannot list {folder}: {exc}").classes("text-negative")
            return
        with listing:
            if split_urn(folder)[1]:
                ui.item("..", on_click=lambda: show(parent_urn(folder))).props(
                    'clickable dense data-testid="picker-up"')
            for item in sorted_items(page.get("items", []) if isinstance(page, dict) else []):
                urn, name = str(item["urn"]), str(item["name"])
                if item.get("is_dir"):
                    row = ui.item(on_click=lambda u=urn: show(folder_urn(u))).props(
                        f'clickable dense data-testid="picker-folder" data-name="{name}"')
                    icon = "folder"
                elif not accepted(name, accept):
                    continue
                else:
                    row = ui.item(on_click=lambda u=urn, n=name: pick(u, n)).props(
                        f'clickable dense data-testid="picker-file" data-name="{name}"')
                    icon = "description"
                with row:
                    with ui.item_section().props("avatar"):
                        ui.icon(icon)
                    ui.item_section(name)

    def pick(urn: str, name: str) -> None:
        picked["done"] = True
        dialog.close()
        on_pick(urn, name)

    await show(here["folder"])
    dialog.open()
