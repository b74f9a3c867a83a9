"""The bulk edit dialog: pick any field the collection lets many rows change, enter a value in
that field's own input (the AutoForm's: a select of labels, a date, chips for a list, …) or clear
it (a field the record may be without), see
each row that will change, then one request changes exactly those rows — the count the
preview shows is the count sent and the count the result reports.

With the whole page selected and more rows found, the dialog offers every row the search and
filters find: it reads them (ids, versions and the offered fields), previews the change over all
of them and sends it in groups of `BULK_MAX_IDS` rows, each at the versions read (a group whose
rows changed meanwhile is a 412: that group and the ones after it are not saved, and the
dialog says how many were)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from webos_common.clients.session import ApiError
from webos_common.documents import BULK_MAX_IDS
from webos_shell import local_time, tabular
from webos_shell.autoform import AutoForm
from webos_shell.schema_fields import FieldSpec, server_errors


def cleared(explorer: Any, spec: FieldSpec) -> tuple[bool, Any]:
    """Whether the rows may be left without the field, and the value that empties it: as a cell
    emptied in the grid (`tabular.cell_value`): none, "" for a text, [] for a list; a field the
    record must have is not offered (the API would refuse it: 422 naming it)."""
    model = next((s for s in explorer.specs if s.name == spec.name), None)
    value, refused = tabular.cell_value(spec, model, "")
    return refused is None, value


def offered(explorer: Any) -> dict[str, tuple[FieldSpec, dict[str, Any]]]:
    """Field name -> (its spec, the schema its input is drawn from), for each field a bulk edit may set."""
    roots = [explorer.ref.schema("update"), explorer.ref.schema()]
    specs = {s.name: s for s in [*explorer.specs, *explorer.update_specs]}  # the update schema's spec wins
    found: dict[str, tuple[FieldSpec, dict[str, Any]]] = {}
    for name in explorer.api.bulk_fields():
        spec = specs.get(name)
        root = next((r for r in roots if name in (r.get("properties") or {})), None)
        if spec is None or root is None or not tabular.bulk_editable(spec):
            continue
        found[name] = spec, {**root, "properties": {name: root["properties"][name]}, "required": []}
    return found


SHOWN = 200  # preview lines drawn; the count covers every row


async def open_bulk_dialog(explorer: Any, page_rows: list[dict[str, Any]], *, matching: str | None = None) -> None:
    """`matching`: how many rows the search finds ("520 rows", "more than 1,000 rows"), when the whole
    page is selected and there are more."""
    fields = offered(explorer)
    if not fields:
        ui.notify("This collection offers no bulk edit", type="warning")
        return
    state: dict[str, Any] = {"field": next(iter(fields)), "changes": {}, "form": None, "clear": False,
                             "rows": page_rows, "versions": explorer.versions}
    with ui.dialog() as dialog, ui.card().classes("w-[36rem]").props('data-testid="bulk-dialog"'):
        title = ui.label(f"Change {len(page_rows)} selected row(s)").classes("text-lg font-semibold")
        if matching:
            async def everything(on: bool) -> None:
                if on:
                    title.text = f"Reading the {matching} found…"
                    label = "title" if any(s.name == "title" for s in explorer.specs) else None
                    found = await explorer.matching_rows([*fields, *([label] if label else [])])
                    if found is None:
                        title.text = f"Change {len(page_rows)} selected row(s)"
                        every.set_value(False)
                        return
                    state["rows"] = found
                    state["versions"] = {tabular.row_id(r): int(r["version"]) for r in found if "version" in r}
                else:
                    state["rows"], state["versions"] = page_rows, explorer.versions
                title.text = (f"Change all {len(state['rows'])} rows found" if on
                              else f"Change {len(page_rows)} selected row(s)")
                show_preview()

            every = ui.checkbox(f"All {matching} the search finds, not only the {len(page_rows)} on this page",
                                on_change=lambda e: everything(bool(e.value))).props('data-testid="bulk-all"')
        ui.select({name: spec.label for name, (spec, _) in fields.items()}, label="Field", value=state["field"],
                  on_change=lambda e: draw_value(e.value)).props('data-testid="bulk-field"').classes("w-full")
        value_box = ui.column().classes("w-full")
        preview = ui.column().classes("w-full gap-0 max-h-60 overflow-auto").props('data-testid="bulk-preview"')

        def lines() -> list[dict[str, Any]]:
            spec = fields[state["field"]][0]
            return tabular.bulk_preview(state["rows"], state["changes"], spec=spec) if state["changes"] else []

        def show_preview() -> None:
            form, spec = state["form"], fields[state["field"]][0]
            if state["clear"]:
                state["changes"] = {spec.name: cleared(explorer, spec)[1]}
            else:  # (checking may add typed chips, and their change draws the preview too: cleared after)
                state["changes"] = (form.check() or {}) if form is not None else {}
            preview.clear()
            if not state["changes"]:
                return
            found, rows = lines(), state["rows"]
            with preview:
                ui.label(f"{len(found)} row(s) will change").classes("text-sm font-medium").props(
                    'data-testid="bulk-count"')
                if len(found) < len(rows):
                    same = "no value" if state["clear"] else "this value"
                    ui.label(f"{len(rows) - len(found)} already have {same}").classes("text-sm text-gray-500")
                for line in found[:SHOWN]:
                    local_time.MomentText(local_time.text(f"{line['label']}: ", line["changes"])).classes("text-sm")
                if len(found) > SHOWN:
                    ui.label(f"… and {len(found) - SHOWN} more").classes("text-sm text-gray-500")

        def draw_value(name: str | None = None) -> None:
            state["field"] = name or state["field"]
            state["changes"], state["clear"] = {}, False
            value_box.clear()
            with value_box:
                form = AutoForm(fields[state["field"]][1], values={})
                if cleared(explorer, fields[state["field"]][0])[0]:
                    ui.checkbox("Clear this field (leave the rows without a value)",
                                on_change=lambda e: clear(bool(e.value))).props('data-testid="bulk-clear"')
            state["form"] = form
            for element in form.inputs.values():
                element.props('data-testid="bulk-value"').on_value_change(show_preview)
            preview.clear()

        def clear(on: bool) -> None:
            state["clear"] = on
            for element in state["form"].inputs.values():
                element.set_enabled(not on)
            show_preview()

        async def apply() -> None:
            show_preview()
            found = lines()
            if not found:
                ui.notify("Enter a new value" if not state["changes"] else "Nothing to change", type="warning")
                return
            ids, modified = [line["id"] for line in found], 0
            for start in range(0, len(ids), BULK_MAX_IDS):  # one request, unless more rows than one may change
                if start:
                    title.text = f"Saved {start} of {len(ids)} rows…"
                group = await send(explorer, ids[start:start + BULK_MAX_IDS], state["field"],
                                   state["changes"][state["field"]], dialog, state["form"],
                                   versions=state["versions"], saved=modified)
                if group is None:
                    return
                modified += group
            dialog.close()
            if modified == len(found):
                ui.notify(f"Updated {modified} row(s)", type="positive")
            else:
                ui.notify(f"Updated {modified} of {len(found)} row(s)", type="warning")
            await explorer.load()

        draw_value()
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            ui.button("Apply", on_click=apply).props('data-testid="bulk-apply"')
    dialog.open()


async def send(explorer: Any, ids: list[str], field: str, value: Any, dialog: Any, form: AutoForm, *,
               versions: dict[str, int], saved: int = 0) -> int | None:
    """One request for every row in `ids`; how many the server changed (None: refused, a 422's
    message for the field shown at its input). `saved`: rows earlier groups of the same edit changed."""
    method, path, body = explorer.api.bulk(ids, field, value)
    if all(i in versions for i in ids):  # all or nothing: a row changed since is a 412
        body["versions"] = {i: versions[i] for i in ids}

    def conflicted(details: Any) -> None:
        stale = details.get("stale", []) if isinstance(details, dict) else []
        who = ", ".join(sorted({str(s.get("updated_by") or "someone") for s in stale}))
        kept = f"{saved} row(s) were saved before them, the rest not" if saved else "nothing was saved"
        ui.notify(f"{len(stale)} row(s) changed meanwhile (by {who}); {kept} — reloaded", type="warning")
        dialog.close()
        ui.timer(0.01, explorer.load, once=True)

    async def refused(exc: ApiError) -> None:
        errors = {path.removeprefix("changes."): m for path, m in server_errors(exc.body).items()}
        message = tabular.field_message(errors, field) if exc.status == 422 else None
        if message:
            form.show_errors({field: message})
        else:
            ui.notify(str(exc), type="negative")

    result = await explorer._call(method, path, body=body, conflict=conflicted, refused=refused)
    if result is None:
        return None
    modified = result.get("modified") if isinstance(result, dict) else None
    return int(modified) if isinstance(modified, int) else len(ids)
