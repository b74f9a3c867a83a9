"""Grid helpers (pure): column definitions from field specs, the preview
of a bulk edit, CSV export, and the query of a server-side page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from webos_shell.schema_fields import FieldSpec

HIDDEN = {"id", "_id", "owner_id", "deleted_at", "created_by", "updated_by", "revision_id", "created_at",
          "completed_at", "shares", "assignees"}


def row_id(row: dict[str, Any]) -> str:
    return str(row.get("id") or row.get("_id") or "")


def column_defs(specs: list[FieldSpec], *, editable: bool) -> list[dict[str, Any]]:
    cols: list[dict[str, Any]] = []
    for spec in specs:
        if spec.name in HIDDEN or spec.kind in ("object", "secret"):
            continue
        col: dict[str, Any] = {"field": spec.name, "headerName": spec.label, "sortable": True,
                               "editable": editable and not spec.read_only and spec.name not in ("id", "_id")}
        if spec.kind == "enum":
            col["cellEditor"] = "agSelectCellEditor"
            col["cellEditorParams"] = {"values": spec.options}
        elif spec.kind == "boolean":
            col["cellDataType"] = "boolean"
        elif spec.kind in ("integer", "number"):
            col["cellDataType"] = "number"
        elif spec.kind == "list":
            col["editable"] = False
        cols.append(col)
    return cols


def open_column(base: str) -> dict[str, Any]:
    """A first column whose link opens the row's record page (`<base>/<id>`)."""
    renderer = ("(p) => { const a = document.createElement('a'); a.href = " + json.dumps(base.rstrip("/") + "/")
                + " + encodeURIComponent(p.value); a.textContent = 'Open'; a.dataset.testid = 'row-open';"
                " a.setAttribute('aria-label', 'Open ' + (p.data.title || p.data.name || p.value)); return a; }")
    return {"field": "id", "headerName": "Open", "colId": "open", "sortable": False, "editable": False,
            "width": 90, "minWidth": 90, ":cellRenderer": renderer}


ROW_SELECTION = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "enableClickSelection": False}


def bulk_preview(rows: list[dict[str, Any]], changes: dict[str, Any],
                 label_field: str = "title") -> list[dict[str, Any]]:
    """One line per row that would change: what it is, and field: old → new."""
    preview = []
    for row in rows:
        diffs = {k: (row.get(k), v) for k, v in changes.items() if row.get(k) != v}
        if diffs:
            preview.append({"id": row_id(row), "label": str(row.get(label_field) or row_id(row)),
                            "changes": "; ".join(f"{k}: {old} → {new}" for k, (old, new) in diffs.items())})
    return preview


def to_csv(rows: Iterable[dict[str, Any]], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("; ".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()})
    return out.getvalue()


def page_query(*, page: int, size: int, sort: str | None, descending: bool,
               filters: dict[str, Any], search: str = "") -> dict[str, Any]:
    """Query parameters of one page: `skip`, `limit`, `sort` (`-field` for
    descending), `q` and one parameter per filtered field."""
    params: dict[str, Any] = {"skip": max(page, 0) * size, "limit": size}
    if sort:
        params["sort"] = f"-{sort}" if descending else sort
    if search.strip():
        params["q"] = search.strip()
    params.update({k: v for k, v in filters.items() if v not in (None, "")})
    return params


def parse_moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def when(value: Any) -> str:
    """An API timestamp as `YYYY-MM-DD HH:MM` (UTC); '' for none."""
    moment = parse_moment(value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else (str(value) if value else "")
