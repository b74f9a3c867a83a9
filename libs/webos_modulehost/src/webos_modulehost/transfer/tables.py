"""Files as tables: a CSV or Excel upload read into a header and rows, and
rows written out as CSV or Excel a chunk at a time (constant memory).

Reading keeps the whole upload (bounded by `MAX_BYTES`) and its cells as text;
typing them is the collection model's work (`rows.py`). Excel is read with
openpyxl's read-only mode and written with its write-only mode, which streams
rows to a temporary file instead of keeping a workbook in memory.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic_core import to_jsonable_python

from webos_common.http.errors import PayloadTooLarge, ValidationFailed

MAX_BYTES = 10 * 1024 * 1024  # the gateway's own body limit
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]  # each as long as `columns`; '' for an empty cell


def bad_file(message: str, field: str = "file") -> ValidationFailed:
    return ValidationFailed(f"Invalid input: {field} ({message})", details=[
        {"field": field, "location": "body", "type": "value_error", "message": message}])


def file_format(filename: str, wanted: str | None = None) -> str:
    """`csv` or `xlsx`, from `wanted` or the file name's extension (422 naming `format` otherwise)."""
    fmt = (wanted or (filename.rsplit(".", 1)[-1] if "." in filename else "")).lower()
    if fmt not in FORMATS:
        raise bad_file(f"give a .csv or .xlsx file (not {fmt or 'no extension'})", "format")
    return fmt


def read_table(data: bytes, fmt: str) -> Table:
    """The header row and the rows of a CSV (UTF-8, `,` or `;`) or of an Excel file's first sheet."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"The file is over {MAX_BYTES} bytes", details={"field": "file", "limit": MAX_BYTES})
    raw = _csv_rows(data) if fmt == "csv" else _xlsx_rows(data)
    header = next(raw, None)
    if not header or not any(c.strip() for c in header):
        raise bad_file("no header row: the first row names the columns")
    columns = [c.strip() for c in header]
    width = len(columns)
    rows = [(row + [""] * width)[:width] for row in raw if any(c.strip() for c in row)]
    return Table(columns, rows)


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad_file(f"not UTF-8 text (byte {exc.start})") from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return iter(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # here: openpyxl costs every host's start-up (and --declare) 0.7 s
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise bad_file("not an Excel (.xlsx) workbook") from exc
    sheet = book.worksheets[0]
    return ([_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- writing ---------------------------------------------------------------------
def cell(value: Any) -> Any:
    """A value as a cell holds it: as the list's JSON has it (dates in ISO 8601, `Z` for UTC), lists
    joined with `; `, objects as text."""
    if value.__class__ is float:
        return value if math.isfinite(value) else None  # JSON has no NaN: null
    value = to_jsonable_python(value, fallback=str)
    if isinstance(value, list):
        return "; ".join([str(v) for v in value])
    if isinstance(value, dict):
        return str(value)
    return value


_AS_IS = frozenset({str, int, bool, type(None)})  # written as they come
_JSONABLE = _AS_IS | {datetime}  # what `cell` makes of them is pydantic's JSON conversion alone


def _column(values: list[Any]) -> Iterable[Any]:
    """A column of a page as cells: as it is, else converted in one C call a value when it can
    (a date column), else cell by cell."""
    kinds = set(map(type, values))
    if kinds <= _AS_IS:
        return values
    return map(to_jsonable_python if kinds <= _JSONABLE else cell, values)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """The cells of a page of rows (as the list route gives them: its JSON, or the values as MongoDB
    has them) in the columns' order, row by row; formatted a column at a time, as an export's hot
    loop should be."""
    return zip(*[_column([row.get(c) for row in rows]) for c in columns], strict=True)


class CsvEncoder:
    """CSV bytes a page of rows at a time: the header first (UTF-8 with a BOM, which Excel reads as UTF-8)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.out = io.StringIO()
        self.writer = csv.writer(self.out)

    def header(self) -> bytes:
        self.writer.writerow(self.columns)
        return b"\xef\xbb\xbf" + self._take()

    def rows(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        self.writer.writerows(table(rows, self.columns))
        return self._take()

    def _take(self) -> bytes:
        chunk = self.out.getvalue().encode()
        self.out.seek(0)
        self.out.truncate()
        return chunk


class XlsxSink:
    """An Excel workbook written row by row (openpyxl's write-only mode spools rows to disk)."""

    def __init__(self, columns: Sequence[str]) -> None:
        from openpyxl import Workbook

        self.columns = list(columns)
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("Export")
        self.sheet.append(self.columns)

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for cells in table(rows, self.columns):
            self.sheet.append([_xlsx_value(v) for v in cells])

    def finish(self) -> Any:
        """The workbook in a temporary file (deleted when closed), at its start."""
        spool = tempfile.TemporaryFile()
        self.book.save(spool)
        spool.seek(0)
        return spool


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 32_767:  # Excel's cell limit
        return value[:32_767]
    return value
