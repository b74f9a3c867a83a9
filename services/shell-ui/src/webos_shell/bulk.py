"""The bulk edit dialog: pick a field and a value, see every selected
row's change before it is sent, then one request updates them all."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.elements.mixins.value_element import ValueElement

from webos_shell import tabular
from webos_shell.schema_checks import validate


async def open_bulk_dialog(explorer: Any, rows: list[dict[str, Any]]) -> None:
    allowed = set(explorer.api.bulk_fields())
    by_name = {s.name: s for s in explorer.specs if s.name in allowed}
    specs = list(by_name.values())
    if not specs:
        ui.notify("This collection offers no bulk edit", type="warning")
        return
    state: dict[str, Any] = {"field": specs[0].name if specs else None, "value": None}
    with ui.dialog() as dialog, ui.card().classes("w-[36rem]").props('data-testid="bulk-dialog"'):
        ui.label(f"Change {len(rows)} selected row(s)").classes("text-lg font-semibold")
        ui.select(list(by_name), label="Field", value=state["field"],
                  on_change=lambda e: draw_value(e.value)).props('data-testid="bulk-field"')
        value_box = ui.column().classes("w-full")
        preview = ui.column().classes("w-full gap-0 max-h-60 overflow-auto").props('data-testid="bulk-preview"')

        def show_preview() -> None:
            preview.clear()
            if state["field"] is None or state["value"] in (None, ""):
                return
            lines = tabular.bulk_preview(rows, {state["field"]: state["value"]})
            with preview:
                ui.label(f"{len(lines)} row(s) will change").classes("text-sm font-medium")
                for line in lines:
                    ui.label(f"{line['label']}: {line['changes']}").classes("text-sm")

        def draw_value(field: str | None = None) -> None:
            if field is not None:
                state["field"] = field
            value_box.clear()
            state["value"] = None
            spec = by_name.get(state["field"])
            with value_box:
                el: ValueElement[Any]
                if spec and spec.kind == "enum":
                    el = ui.select(spec.options, label="New value")
                elif spec and spec.kind == "boolean":
                    el = ui.switch("New value")
                else:
                    el = ui.input("New value")
                el.bind_value(state, "value").props('data-testid="bulk-value"').classes("w-full")
                el.on_value_change(show_preview)
            show_preview()

        async def apply() -> None:
            spec = by_name.get(state["field"])
            errors = validate([spec], {spec.name: state["value"]}) if spec else {"field": "Choose a field"}
            if errors or state["value"] in (None, ""):
                ui.notify(next(iter(errors.values()), "Enter a value"), type="negative")
                return
            ids = [tabular.row_id(r) for r in rows]
            method, path, body = explorer.api.bulk(ids, state["field"], state["value"])
            if all(i in explorer.versions for i in ids):  # all or nothing: a row changed since is a 412
                body["versions"] = {i: explorer.versions[i] for i in ids}

            def conflicted(details: Any) -> None:
                stale = details.get("stale", []) if isinstance(details, dict) else []
                who = ", ".join(sorted({str(s.get("updated_by") or "someone") for s in stale}))
                ui.notify(f"{len(stale)} row(s) changed meanwhile (by {who}); nothing was saved — reloaded",
                          type="warning")
                dialog.close()
                ui.timer(0.01, explorer.load, once=True)

            result = await explorer._call(method, path, body=body, conflict=conflicted)
            if result is not None:
                dialog.close()
                ui.notify(f"Updated {len(ids)} row(s)", type="positive")
                await explorer.load()

        draw_value()
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            ui.button("Apply", on_click=apply).props('data-testid="bulk-apply"')
    dialog.open()
