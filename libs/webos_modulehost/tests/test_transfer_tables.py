"""The pure pieces of import and export: files read into tables, the mapping
guessed by name and checked, each row validated with the model (errors name
row, field and column), and rows written out as CSV and Excel."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from enum import StrEnum

import pytest
from bson import ObjectId
from openpyxl import Workbook, load_workbook
from pydantic import BaseModel, Field

from webos_common.documents.ports import AnyPage
from webos_common.http.errors import PayloadTooLarge, ValidationFailed
from webos_modulehost.transfer import tables
from webos_modulehost.transfer.rows import check, check_mapping, guess_mapping
from webos_modulehost.transfer.tables import CsvEncoder, XlsxSink, file_format, read_table


class Level(StrEnum):
    low = "low"
    high = "high"


class ThingCreate(BaseModel):
    title: str = Field(min_length=1)
    level: Level = Level.low
    due_date: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    count: int = 0


def _field(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return str(exc.value.details[0]["field"])  # type: ignore[index]


def test_csv_with_bom_semicolons_and_blank_lines() -> None:
    data = "\ufefftitle;level\r\none;high\r\n\r\ntwo\r\n".encode()
    table = read_table(data, "csv")
    assert table.columns == ["title", "level"]
    assert table.rows == [["one", "high"], ["two", ""]]  # the short row padded, the blank one dropped


def test_excel_first_sheet_cells_as_text() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["title", "count", "due_date"])
    sheet.append(["one", 3, datetime(2030, 1, 2, 3, 4)])
    data = io.BytesIO()
    book.save(data)
    table = read_table(data.getvalue(), "xlsx")
    assert table.rows == [["one", "3", "2030-01-02T03:04:00"]]


def test_bad_files_are_422_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as no_header:
        read_table(b"\n\n", "csv")
    assert _field(no_header) == "file"
    with pytest.raises(ValidationFailed) as latin:
        read_table("titel\nk\xe4se\n".encode("latin-1"), "csv")
    assert _field(latin) == "file"
    with pytest.raises(ValidationFailed) as fmt:
        file_format("notes.txt")
    assert _field(fmt) == "format"
    assert file_format("Data.XLSX") == "xlsx" and file_format("x", "csv") == "csv"
    with pytest.raises(PayloadTooLarge):
        read_table(b"a" * (tables.MAX_BYTES + 1), "csv")


def test_mapping_is_guessed_by_name_and_checked() -> None:
    assert guess_mapping(["Title", "LEVEL", "Due date", "title", "other"], ThingCreate) == {
        "Title": "title", "LEVEL": "level", "Due date": "due_date"}  # a field is fed by one column
    with pytest.raises(ValidationFailed) as wrong:
        check_mapping({"a": "title", "b": "title", "c": "nope"}, ["a", "b"], ThingCreate)
    assert _field(wrong) == "mapping"
    message = str(wrong.value.details[0]["message"])  # type: ignore[index]
    assert "'c' is not in the file" in message and "'nope'" in message and "more than one" in message
    assert check_mapping({"a": "title", "b": ""}, ["a", "b"], ThingCreate) == {"a": "title"}


def test_each_bad_row_named_with_row_field_and_column() -> None:
    data = "Name,level,tags,count\nok,high,a; b,1\n,low,,\nbad level,medium,,x\nlast,,\"c,d\",\n"
    table = read_table(data.encode(), "csv")
    mapping = {"Name": "title", "level": "level", "tags": "tags", "count": "count"}
    checked = check(table, mapping, ThingCreate)
    assert [n for n, _ in checked.valid] == [2, 5]
    first, last = (record for _, record in checked.valid)
    assert first.model_dump()["tags"] == ["a", "b"] and last.model_dump()["tags"] == ["c", "d"]
    assert last.model_dump()["level"] == "low"  # an empty cell keeps the default
    report = checked.report()
    assert (report["rows"], report["valid"], report["invalid"]) == (4, 2, 2)
    assert [(e["row"], e["field"], e["column"]) for e in report["errors"]] == [
        (3, "title", "Name"), (4, "level", "level"), (4, "count", "count")]


def test_csv_encoder_writes_a_page_at_a_time() -> None:
    encoder = CsvEncoder(["id", "title", "tags"])
    head = encoder.header()
    body = encoder.rows([{"id": "1", "title": "a, b", "tags": ["x", "y"], "other": 1}])
    more = encoder.rows([{"id": "2", "title": None}])
    assert head.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO((head + body + more).decode("utf-8-sig"))))
    assert rows == [["id", "title", "tags"], ["1", "a, b", "x; y"], ["2", "", ""]]


def test_cells_of_stored_values_are_those_of_the_lists_json() -> None:
    """An export hands each page over in-process as MongoDB gave its rows: every cell must still say
    what the list route's JSON says (dates in ISO 8601 with `Z`, lists joined, objects as text)."""
    when = datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    stored = {"id": "1", "title": "a, b", "level": Level.high, "due": when, "naive": datetime(2031, 1, 2),
              "tags": ["x", "y"], "dates": [when], "empty": [], "meta": {"at": when, "n": 1}, "n": 3,
              "ratio": 0.5, "nan": float("nan"), "done": True, "none": None}
    columns = [*stored, "absent"]
    as_json = json.loads(AnyPage(items=[stored], total=1, skip=0, limit=1, has_more=False).model_dump_json())
    bare = {"id": "2", "due": None, "tags": None, "meta": None}  # a column of values and nulls
    assert list(tables.table([stored, bare], columns)) == list(tables.table([as_json["items"][0], bare], columns))
    first, _ = tables.table([stored, bare], columns)
    assert first[:5] == ("1", "a, b", "high", "2031-05-06T07:08:09.123000Z", "2031-01-02T00:00:00")
    ref = {"ref": ObjectId("0123456789abcdef01234567")}
    assert list(tables.table([ref], ["ref"])) == [("0123456789abcdef01234567",)]


def test_xlsx_sink_streams_rows_to_a_workbook() -> None:
    sink = XlsxSink(["id", "tags"])
    sink.add([{"id": "1", "tags": ["a", "b"]}, {"id": "2", "tags": []}])
    spool = sink.finish()
    try:
        sheet = load_workbook(io.BytesIO(spool.read()), read_only=True).worksheets[0]
        assert list(sheet.iter_rows(values_only=True)) == [("id", "tags"), ("1", "a; b"), ("2", None)]
    finally:
        spool.close()
