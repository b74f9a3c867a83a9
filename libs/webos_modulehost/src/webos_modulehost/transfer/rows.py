"""From a table's rows to a collection's records: which file column feeds
which field (guessed by name, or as the person mapped them), and each row
checked with the collection's own create model.

Row numbers are the file's: the header is row 1, the first record row 2 (as a
spreadsheet shows them). An empty cell is left out, so the model's default
applies; a list field takes `a; b` or `a, b`; an object field takes JSON.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from webos_modulehost.transfer.tables import Table, bad_file

MAX_LISTED = 1000  # per-row errors an answer lists (it counts them all)
_WORD = re.compile(r"[^a-z0-9]+")


def _norm(name: str) -> str:
    return _WORD.sub("", name.lower())


def guess_mapping(columns: list[str], model: type[BaseModel]) -> dict[str, str]:
    """column -> field for each column whose name matches a field's name or title (case, spaces
    and punctuation aside); a field is fed by one column at most."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        for label in (name, info.title or "", info.alias or ""):
            if label:
                names.setdefault(_norm(label), name)
    mapping: dict[str, str] = {}
    for column in columns:
        target = names.get(_norm(column))
        if target is not None and target not in mapping.values():
            mapping[column] = target
    return mapping


def check_mapping(mapping: Mapping[str, str], columns: list[str], model: type[BaseModel]) -> dict[str, str]:
    """The mapping, without columns mapped to nothing; 422 naming `mapping` for a column the file
    lacks, a field the model lacks, or a field fed twice."""
    kept = {c: f for c, f in mapping.items() if f}
    wrong = [f"column {c!r} is not in the file" for c in kept if c not in columns]
    wrong += [f"field {f!r} is not one of {sorted(model.model_fields)}" for f in kept.values()
              if f not in model.model_fields]
    twice = sorted({f for f in kept.values() if list(kept.values()).count(f) > 1})
    wrong += [f"field {f!r} is fed by more than one column" for f in twice]
    if wrong:
        raise bad_file("; ".join(wrong), "mapping")
    return kept


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, set, tuple, frozenset):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False


def _value(text: str, listed: bool) -> Any:
    text = text.strip()
    if listed:
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                pass
        parts = text.split(";") if ";" in text else text.split(",")
        return [p.strip() for p in parts if p.strip()]
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


@dataclass
class RowError:
    row: int
    field: str
    message: str
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "column": self.column, "message": self.message}


@dataclass
class Checked:
    """Every row checked: the valid ones as (row number, record) and the errors of the others."""

    total: int = 0
    valid: list[tuple[int, BaseModel]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    def report(self) -> dict[str, Any]:
        return {"rows": self.total, "valid": len(self.valid), "invalid": len(self.bad_rows),
                "error_count": len(self.errors), "errors": [e.as_dict() for e in self.errors[:MAX_LISTED]]}


def records(table: Table, mapping: Mapping[str, str], model: type[BaseModel]) -> Iterator[
        tuple[int, dict[str, Any]]]:
    """(row number, field values) of each row, as the mapping says."""
    at = {column: table.columns.index(column) for column in mapping}
    listed = {f: _is_list(model.model_fields[f].annotation) for f in mapping.values()}
    for number, row in enumerate(table.rows, start=2):
        yield number, {f: _value(row[at[c]], listed[f]) for c, f in mapping.items() if row[at[c]].strip()}


def check(table: Table, mapping: Mapping[str, str], model: type[BaseModel]) -> Checked:
    """Each row validated with `model`; an error names the row, the field and what is wrong."""
    result = Checked(total=len(table.rows))
    fields = {f: c for c, f in mapping.items()}
    for number, values in records(table, mapping, model):
        try:
            result.valid.append((number, model.model_validate(values)))
        except ValidationError as exc:
            result.bad_rows.add(number)
            for err in exc.errors(include_url=False):
                name = str(err["loc"][0]) if err["loc"] else ""
                result.errors.append(RowError(number, name, err["msg"], fields.get(name)))
    return result
