"""A kanban board over a module collection: one column per value of an
enum field (the tasks module's `status`), cards dragged between columns
PATCH that field; a focused card (Tab) moves a column left or right with
the arrow keys; a click (or Enter) opens the card's record page. A module turns it on with `ui_components: ["kanban"]`
(or `"kanban:<field>"`) or by serving `GET <collection>/board`; it may
also ship its own NiceGUI component instead."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_common.modules.shell_sdk import board_shift, focus_card
from webos_shell import permissions, runtime
from webos_shell.collections_ui import CollectionRef
from webos_shell.schema_fields import fields_from_schema


def group(rows: list[dict[str, Any]], field: str, columns: list[Any]) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = {c: [] for c in columns}
    for row in rows:
        grouped.setdefault(row.get(field), []).append(row)
    return grouped


async def render(ref: CollectionRef, user: User, option: str | None = None) -> None:
    specs = fields_from_schema(ref.schema())
    enums = [s for s in specs if s.kind == "enum"]
    spec = next((s for s in enums if s.name == (option or "status")), enums[0] if enums else None)
    if spec is None:
        ui.label("This collection has no field to group by").classes("text-negative")
        return
    rt, store = runtime.get(), app.storage.user
    writable = permissions.can_write(user, ref.collection)
    dragged: dict[str, Any] = {}
    board = ui.row().classes("w-full gap-4 items-start no-wrap overflow-x-auto").props('data-testid="kanban"')

    async def drop(column: Any) -> None:
        row = dragged.pop("row", None)
        if row is None or row.get(spec.name) == column or not writable:
            return
        method, path, body = ref.api.update(str(row.get("id")), spec.name, column)
        try:
            await rt.gateway.send(store, method, path, body)
            ui.notify(f"Moved to {column}", type="positive")
        except ApiError as exc:
            ui.notify(str(exc), type="negative")
        await draw()

    async def shift(row: dict[str, Any], by: int) -> None:
        column = board_shift(list(spec.options), row.get(spec.name), by)
        if column is not None:
            dragged["row"] = row
            client = ui.context.client  # the card (this handler's slot) is gone once drawn again
            await drop(column)
            client.run_javascript(focus_card(column, row.get("id")))  # the moved card keeps the focus

    async def draw() -> None:
        board_path = ref.api.board
        try:
            body = await rt.gateway.get(store, board_path or ref.collection.endpoint, limit=200)
        except (ApiError, OSError) as exc:
            board.clear()
            with board:
                ui.label(f"unavailable: {exc}").classes("text-negative")
            return
        if board_path and isinstance(body, dict) and "items" not in body:
            rows = [row for column in body.values() if isinstance(column, list) for row in column]
        else:
            rows = body.get("items", []) if isinstance(body, dict) else body
        board.clear()
        with board:
            for column, cards in group(rows, spec.name, spec.options).items():
                with ui.column().classes("w-72 min-h-64 bg-gray-100 dark:bg-gray-800 rounded p-2 gap-2").props(
                        f'data-testid="kanban-column" data-column="{column}"') as col:
                    ui.label(f"{column} ({len(cards)})").classes("font-medium")
                    for row in cards:
                        title = str(row.get("title") or row.get("name") or row.get("id"))
                        with ui.card().classes("w-full cursor-grab p-2").props(
                                f'draggable tabindex=0 role=group aria-keyshortcuts="ArrowLeft ArrowRight" '
                                f'aria-label="{title.replace(chr(34), chr(39))}: the arrow keys move it" '
                                f'data-testid="kanban-card" data-id="{row.get("id")}"') as card:
                            ui.label(title)
                        page = f"/m/{ref.manifest.name}/{ref.collection.name}/{row.get('id')}"
                        card.on("click", lambda _, p=page: ui.navigate.to(p))  # Enter too: its record page
                        card.on("keydown.enter", lambda _, p=page: ui.navigate.to(p))
                        card.on("dragstart", lambda _, r=row: dragged.update(row=r))
                        card.on("keydown.left.prevent", lambda _, r=row: shift(r, -1))
                        card.on("keydown.right.prevent", lambda _, r=row: shift(r, 1))
                col.on("dragover.prevent", lambda: None)
                col.on("drop", lambda _, c=column: drop(c))

    await draw()
