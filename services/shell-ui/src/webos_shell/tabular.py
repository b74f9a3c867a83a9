"""Grid helpers (pure): column definitions from field specs, the preview
of a bulk edit, CSV export, and the query of a server-side page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from webos_shell import choices, local_time
from webos_shell.schema_checks import validate
from webos_shell.schema_fields import FieldSpec

HIDDEN = {"id", "_id", "owner_id", "deleted_at", "created_by", "updated_by", "revision_id", "created_at",
          "completed_at", "shares", "assignees", "version"}


def row_id(row: dict[str, Any]) -> str:
    return str(row.get("id") or row.get("_id") or "")


# How a cell reads (AG Grid value formatters, in the browser: local time, the person's locale).
_DAY = ("(p) => { if (!p.value) return ''; const d = new Date(String(p.value).slice(0, 10) + 'T00:00:00Z');"
        " return isNaN(d) ? String(p.value)"
        " : d.toLocaleDateString(undefined, {dateStyle: 'medium', timeZone: 'UTC'}); }")
_JOINED = "(p) => Array.isArray(p.value) ? p.value.join(', ') : (p.value ?? '')"
_SPLIT = "(p) => String(p.newValue ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')"
_SCALAR_ITEMS = ("string", "text", "enum", "link", "file")


TITLES = ("title", "name", "label", "sku")  # the field a card is headed by, when the row has one
CARD_FIELDS = 3  # fields a phone's card shows under its heading


def card_of(row: dict[str, Any], specs: list[FieldSpec]) -> tuple[str, list[tuple[str, local_time.Part]]]:
    """A row as a phone shows it: a heading and a few `(label, value)` lines, values as a person reads
    them (enum labels, lists joined, dates as dates, times as instants the browser says in local
    time, `local_time.MomentText`); empty fields are left out."""
    heading = next((str(row[name]) for name in TITLES if row.get(name)), row_id(row))
    lines: list[tuple[str, local_time.Part]] = []
    for spec in specs:
        value = row.get(spec.name)
        if (spec.name in HIDDEN or spec.name in TITLES or spec.name == "updated_at" or spec.kind in ("object", "secret")
                or value in (None, "", [])):
            continue
        if spec.kind == "enum" or (spec.kind == "list" and spec.item is not None and spec.item.kind == "enum"):
            named = choices.labels(spec)
            value = [named.get(str(v), str(v)) for v in value] if isinstance(value, list) else named.get(
                str(value), str(value))
        if spec.kind == "datetime":
            lines.append((spec.label, local_time.instant(value)))
        elif spec.kind == "date":
            lines.append((spec.label, str(value)[:10]))
        else:
            lines.append((spec.label, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
        if len(lines) == CARD_FIELDS:
            break
    return heading, lines


def column_defs(specs: list[FieldSpec], *, editable: bool) -> list[dict[str, Any]]:
    cols: list[dict[str, Any]] = []
    for spec in specs:
        if spec.name in HIDDEN or spec.kind in ("object", "secret"):
            continue
        col: dict[str, Any] = {"field": spec.name, "headerName": spec.label, "sortable": True,
                               "editable": editable and not spec.read_only and spec.name not in ("id", "_id")}
        col.update(_typed(spec))
        cols.append(col)
    return cols


def _typed(spec: FieldSpec) -> dict[str, Any]:
    """What a column of the field's kind adds: labels for enum values, dates as dates, lists as lists."""
    if spec.kind == "enum":  # refData: the cell and its select show labels, the row keeps the value
        return {"refData": choices.labels(spec), "cellEditor": "agSelectCellEditor",
                "cellEditorParams": {"values": spec.options}}
    if spec.kind == "boolean":
        return {"cellDataType": "boolean"}
    if spec.kind in ("integer", "number"):
        return {"cellDataType": "number"}
    if spec.kind == "datetime":
        return {"cellDataType": False, ":valueFormatter": local_time.READABLE, ":cellEditor": local_time.EDITOR,
                "minWidth": 190}  # read and edited in local time (`local_time`), saved as the UTC instant
    if spec.kind == "date":
        return {"cellDataType": False, ":valueFormatter": _DAY, "minWidth": 130}
    if spec.kind == "list":  # typed as "a, b", saved as ["a", "b"]
        scalar = spec.item is not None and spec.item.kind in _SCALAR_ITEMS
        typed: dict[str, Any] = {"cellDataType": False, ":valueFormatter": _JOINED}
        return {**typed, ":valueParser": _SPLIT, "cellEditorParams": {"useFormatter": True}} if scalar else {
            **typed, "editable": False}
    return {}


def open_column(base: str) -> dict[str, Any]:
    """A first column whose link opens the row's record page (`<base>/<id>`)."""
    renderer = ("(p) => { const a = document.createElement('a'); a.href = " + json.dumps(base.rstrip("/") + "/")
                + " + encodeURIComponent(p.value); a.textContent = 'Open'; a.dataset.testid = 'row-open';"
                " a.setAttribute('aria-label', 'Open ' + (p.data.title || p.data.name || p.value)); return a; }")
    return {"field": "id", "headerName": "Open", "colId": "open", "sortable": False, "editable": False,
            "width": 90, "minWidth": 90, ":cellRenderer": renderer}


ROW_SELECTION = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "enableClickSelection": False}


def bulk_editable(spec: FieldSpec) -> bool:
    """Whether a bulk edit offers the field: what a person sees and may change in the grid."""
    return spec.name not in HIDDEN and spec.kind not in ("object", "secret") and not spec.read_only


def shown(spec: FieldSpec | None, value: Any) -> local_time.Part:
    """A value as a person reads it (a bulk edit's preview, a record's history, the conflict
    dialog): an enum's label, a time as an instant the browser says in local time, a list as "a, b"."""
    if value is None or value == "" or value == []:
        return "—"
    if spec is not None and spec.kind == "enum":
        return choices.labels(spec).get(str(value), str(value))
    if spec is not None and spec.kind == "datetime":
        return local_time.instant(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _same(spec: FieldSpec | None, old: Any, new: Any) -> bool:
    if spec is not None and spec.kind == "datetime" and old and new:
        return parse_moment(old) == parse_moment(new)
    return bool(old == new or (old in (None, "", []) and new in (None, "", [])))


def bulk_preview(rows: list[dict[str, Any]], changes: dict[str, Any], label_field: str = "title", *,
                 spec: FieldSpec | None = None) -> list[dict[str, Any]]:
    """One line per row that would change: what it is, and field: old → new (`spec`: the
    changed field's, to compare and show its values as the grid does; `changes` is text parts,
    `local_time.MomentText`'s)."""
    preview = []
    for row in rows:
        diffs = {k: (row.get(k), v) for k, v in changes.items() if not _same(spec, row.get(k), v)}
        if diffs:
            said = [local_time.text("; " if n else "", f"{spec.label if spec else k}: ", shown(spec, old), " → ",
                                    shown(spec, new)) for n, (k, (old, new)) in enumerate(diffs.items())]
            preview.append({"id": row_id(row), "label": str(row.get(label_field) or row_id(row)),
                            "changes": local_time.text(*said)})
    return preview


def to_csv(rows: Iterable[dict[str, Any]], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("; ".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()})
    return out.getvalue()


def page_query(*, page: int, size: int, sort: str | None, descending: bool,
               filters: dict[str, Any], search: str = "", cursor: str | None = None) -> dict[str, Any]:
    """Query parameters of one page: `skip` (or `cursor`, the previous page's `next_cursor`: a deep
    page then costs what the first does), `limit`, `sort` (`-field` for descending), `q` and one
    parameter per filtered field."""
    params: dict[str, Any] = {"cursor": cursor} if cursor else {"skip": max(page, 0) * size}
    params["limit"] = size
    if sort:
        params["sort"] = f"-{sort}" if descending else sort
    if search.strip():
        params["q"] = search.strip()
    params.update({k: v for k, v in filters.items() if v not in (None, "")})
    return params


def row_count(total: int | None, more_than: int | None = None) -> str:
    """How many rows a list has, as the pager says it: a capped count (`more_than`, the list's
    `meta=capped`) is "more than 1,000 rows", never the cap as if it were the number."""
    if total is None and more_than:
        return f"more than {more_than:,} rows"
    return f"{total or 0} rows"


def page_label(page: int, size: int, total: int | None, more_than: int | None = None) -> str:
    """`Page 3 of 12 · 290 rows`; past a capped count the last page is unknown: `Page 3 of more than 400`."""
    if total is None and more_than:
        return f"Page {page + 1} of more than {more_than // size} · {row_count(None, more_than)}"
    return f"Page {page + 1} of {max(1, -(-(total or 0) // size))} · {row_count(total)}"


def parse_moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def cell_value(spec: FieldSpec, model: FieldSpec | None, value: Any) -> tuple[Any, str | None]:
    """A cell's new value as the API takes it, or why it cannot be saved. `spec` is the field in
    the update schema, `model` in the record's: emptying a field the record must have is refused
    here ("Required"), an optional one is cleared (None), a text that may be empty becomes ""."""
    if spec.kind == "list" and isinstance(value, str):  # typed as "a, b"
        value = [part.strip() for part in value.split(",") if part.strip()]
    if value is None or value == "":
        if model is None or model.nullable or not model.required:
            return None, None
        if spec.kind in ("string", "text") and not spec.min_length:
            return "", None
        return None, "Required"
    if message := next(iter(validate([spec], {spec.name: value}).values()), None):
        return value, message
    if spec.kind in ("integer", "number"):
        value = int(float(value)) if spec.kind == "integer" else float(value)
    return value, None


def field_message(errors: dict[str, str], name: str) -> str | None:
    """The message a 422 gives for field `name` (or one of its items: `tags.1`)."""
    return next((m for path, m in errors.items() if path == name or path.startswith(f"{name}.")), None)
