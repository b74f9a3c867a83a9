"""AutoForm: a NiceGUI form drawn from a JSON Schema. Fields come from
`schema_fields`; values are checked in the browser session before any
request, and a server 422 is shown at the field it names."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import choices, runtime, tabular
from webos_shell.list_select import ListSelect
from webos_shell.local_time import MomentInput
from webos_shell.schema_checks import validate
from webos_shell.schema_fields import FieldSpec, blank, coerce, fields_from_schema, server_errors

Submit = Callable[[dict[str, Any]], Awaitable[Any]]


class AutoForm:
    """`readonly=True` is the view mode: the same fields, shown and not editable."""

    def __init__(self, schema: dict[str, Any], *, values: dict[str, Any] | None = None, readonly: bool = False,
                 exclude: tuple[str, ...] = ("id", "_id", "owner_id", "created_at", "updated_at",
                                              "created_by", "updated_by", "deleted_at")) -> None:
        self.specs = [s for s in fields_from_schema(schema) if s.name not in exclude and not s.read_only]
        self.values: dict[str, Any] = {s.name: (values or {}).get(s.name, s.default) for s in self.specs}
        self.inputs: dict[str, Any] = {}
        self.readonly = readonly
        self.general = None
        with ui.column().classes("w-full gap-2").props('data-testid="autoform"'):
            for spec in self.specs:
                self._field(spec, self.values)
            self.general = ui.label("").classes("text-negative text-sm")

    # -- drawing --------------------------------------------------------------
    def _field(self, spec: FieldSpec, target: dict[str, Any]) -> None:
        label = spec.label + (" *" if spec.required and not self.readonly else "")
        mark = f'data-field="{spec.path}"'

        def bind(element: Any) -> Any:
            element.bind_value(target, spec.name).props(mark).classes("w-full")
            if hasattr(element, "without_auto_validation"):  # the form's checks set errors; NiceGUI's own
                element.without_auto_validation()  # re-validation cleared them at the next value event
            if self.readonly:
                element.props("disable" if isinstance(element, ui.switch) else "readonly")
            self.inputs[spec.path] = element
            return element

        if spec.kind == "object":
            target[spec.name] = dict(target.get(spec.name) or {})
            with ui.card().classes("w-full p-2").props(mark):
                ui.label(spec.label).classes("text-sm font-medium")
                for child in spec.children:
                    self._field(child, target[spec.name])
        elif spec.kind == "boolean":
            target[spec.name] = bool(target.get(spec.name))
            bind(ui.switch(label))
        elif spec.kind == "enum":
            bind(ui.select(choices.options(spec), label=label, clearable=not spec.required))
        elif spec.kind in ("integer", "number"):
            bind(ui.number(label))  # no min/max/precision: NiceGUI would clamp or round silently; the checks say it
        elif spec.kind == "date":
            element = bind(ui.input(label, placeholder="YYYY-MM-DD"))
            if not self.readonly:
                with element.add_slot("append"), ui.icon("event").classes("cursor-pointer"), ui.menu():
                    ui.date().bind_value(target, spec.name)
        elif spec.kind == "datetime":  # the UTC instant, seen and entered in the person's local time
            bind(MomentInput(label, readable=self.readonly))
        elif spec.kind == "secret":
            bind(ui.input(label, password=True, password_toggle_button=True))
        elif spec.kind == "text":
            bind(ui.textarea(label))
        elif spec.kind == "list" and spec.item is not None and spec.item.kind == "link":
            target[spec.name] = list(target.get(spec.name) or [])
            self._link(spec.item, target, label, bind, name=spec.name, multiple=True)
        elif spec.kind == "list" and spec.item is not None and spec.item.kind == "enum":
            target[spec.name] = list(target.get(spec.name) or [])
            bind(ui.select(choices.options(spec), label=label, multiple=True).props("use-chips"))
        elif spec.kind == "list" and self.readonly and any(isinstance(v, dict) for v in target.get(spec.name) or []):
            self._rows(spec, [v for v in target[spec.name] if isinstance(v, dict)])  # an order's lines, a history
        elif spec.kind == "list":  # chips; "finance, q3" typed is two items
            target[spec.name] = list(target.get(spec.name) or [])
            bind(ListSelect(list(target[spec.name]), label=label))
        elif spec.kind == "link":
            self._link(spec, target, label, bind)
        elif spec.kind == "file":
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                field = bind(ui.input(label, placeholder="fs://…").classes("grow"))

                async def browse(f: Any = field) -> None:
                    from webos_shell.file_picker import open_picker

                    def chosen(urn: str, _name: str) -> None:
                        f.value = urn

                    await open_picker(chosen)

                ui.button(icon="folder_open", on_click=browse).props(
                    f'flat round aria-label="Choose a file" data-testid="file-browse" data-for="{spec.path}"').tooltip(
                    "Choose a file")
        else:
            bind(ui.input(label))
        if spec.description and spec.kind != "object":
            ui.label(spec.description).classes("text-xs text-gray-500 -mt-2")

    def _rows(self, spec: FieldSpec, rows: list[dict[str, Any]]) -> None:
        """A list of objects, read: a small table, a column per key the rows have."""
        keys = list(dict.fromkeys(key for row in rows for key in row))
        columns = [{"name": k, "label": k.replace("_", " ").capitalize(), "field": k, "align": "left"} for k in keys]
        shown = [{k: ("; ".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()} for row in rows]
        with ui.column().classes("w-full gap-1").props(f'data-field="{spec.path}"'):
            ui.label(spec.label).classes("text-xs text-gray-600 dark:text-gray-300")
            ui.table(columns=columns, rows=shown).props("flat dense bordered").classes("w-full overflow-auto")

    def _link(self, spec: FieldSpec, target: dict[str, Any], label: str, bind: Callable[[Any], Any], *,
              name: str | None = None, multiple: bool = False) -> None:
        """A searchable picker over the link's endpoint (the user and role pickers among them)."""
        assert spec.link is not None
        endpoint = spec.link.get("endpoint", "")
        shown, key = spec.link.get("label", "name"), spec.link.get("value", "id")
        current = target.get(name or spec.name)
        known = {str(v): str(v) for v in (current if isinstance(current, list) else [current]) if v}
        select = bind(ui.select(known, label=label, with_input=True, clearable=True, multiple=multiple).props(
            "use-input" + (" use-chips" if multiple else "")))

        async def load() -> None:
            try:
                body = await runtime.get().gateway.get(app.storage.user, endpoint, limit=100)
            except (ApiError, OSError) as exc:
                select.error = f"Cannot load choices: {exc}"
                return
            rows = body.get("items", []) if isinstance(body, dict) else body
            select.options = {str(r.get(key)): str(r.get(shown) or r.get(key)) for r in rows}
            select.update()

        ui.timer(0.01, load, once=True)

    # -- checking -------------------------------------------------------------
    def show_errors(self, errors: dict[str, str]) -> None:
        for path, element in self.inputs.items():
            element.error = errors.get(path)
        unplaced = {p: m for p, m in errors.items() if p not in self.inputs}
        if self.general is not None:
            self.general.text = "; ".join(f"{p}: {m}" for p, m in unplaced.items())

    def check(self) -> dict[str, Any] | None:
        """The request body, or None (with errors shown) when something is wrong."""
        for element in self.inputs.values():
            if isinstance(element, ListSelect):
                element.take_typed()
        errors = validate(self.specs, self.values)
        self.show_errors(errors)
        return None if errors else coerce(self.specs, self.values)

    def changes(self, before: dict[str, Any], models: list[FieldSpec]) -> dict[str, Any] | None:
        """The body of a PATCH of `before` (a record, whose fields are `models`), or None (with
        errors shown): the fields changed, and the fields emptied, cleared as a cell emptied in
        the grid clears them (`tabular.cell_value`: none, "" for a text, [] for a list). An
        empty input is otherwise left out of a body (`coerce`), so an edit could never take a
        value away; emptying a field the record must have is said at the field."""
        body = self.check()
        if body is None:
            return None
        changed = {name: value for name, value in body.items() if value != before.get(name)}
        errors: dict[str, str] = {}
        for spec in self.specs:
            if spec.name in body or spec.kind == "object" or blank(before.get(spec.name)):
                continue
            model = next((m for m in models if m.name == spec.name), None)
            value, refused = tabular.cell_value(spec, model, "")
            if refused:
                errors[spec.path] = refused
            else:
                changed[spec.name] = value
        if errors:
            self.show_errors(errors)
            return None
        return changed

    async def submit(self, send: Submit) -> Any:
        body = self.check()
        if body is None:
            return None
        try:
            result = await send(body)
        except ApiError as exc:
            if exc.status == 422:
                errors = server_errors(exc.body) or {"": str(exc)}
                self.show_errors(errors)
            elif self.general is not None:
                self.general.text = str(exc)
            return None
        self.show_errors({})
        return result if result is not None else {}


def json_preview(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
