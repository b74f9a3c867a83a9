"""What the grid shows and sends for a schema's values: enum labels, dates, lists, a cell's
new value checked before it goes out, and the bulk preview."""

from __future__ import annotations

from webos_shell import choices, tabular
from webos_shell.list_select import split
from webos_shell.schema_fields import fields_from_schema

SCHEMA = {
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "status": {"$ref": "#/$defs/Status"},
        "size": {"oneOf": [{"const": "s", "title": "Small"}, {"const": "xl", "title": "Extra large"}]},
        "colour": {"enum": ["red", "dark_blue"], "x-enumNames": ["Red", "Navy"]},
        "due": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "count": {"type": "integer", "minimum": 0},
    },
    "required": ["title", "description", "status", "due", "tags"],
    "$defs": {"Status": {"enum": ["todo", "in_progress"], "title": "Status", "type": "string"}},
}
SPECS = {s.name: s for s in fields_from_schema(SCHEMA)}


def test_enum_labels_come_from_the_schema_or_the_value_made_readable() -> None:
    assert choices.labels(SPECS["status"]) == {"todo": "Todo", "in_progress": "In progress"}
    assert SPECS["size"].kind == "enum" and SPECS["size"].options == ["s", "xl"]
    assert choices.options(SPECS["size"]) == {"s": "Small", "xl": "Extra large"}
    assert choices.labels(SPECS["colour"]) == {"red": "Red", "dark_blue": "Navy"}


def test_columns_show_labels_local_times_and_lists() -> None:
    cols = {c["field"]: c for c in tabular.column_defs(list(SPECS.values()), editable=True)}
    assert cols["status"]["refData"] == {"todo": "Todo", "in_progress": "In progress"}
    assert cols["status"]["cellEditorParams"] == {"values": ["todo", "in_progress"]}
    assert "webosLocalTime.readable" in cols["due"][":valueFormatter"] and cols["due"]["minWidth"] >= 190
    assert cols["due"][":cellEditor"] == "window.WebosMomentEditor"  # entered in local time, saved as UTC
    assert cols["tags"]["editable"] is True and "split(',')" in cols["tags"][":valueParser"]
    assert cols["tags"]["cellEditorParams"] == {"useFormatter": True}


def test_a_cell_value_is_checked_before_it_is_sent() -> None:
    title, description, due, tags, count = (SPECS[n] for n in ("title", "description", "due", "tags", "count"))
    assert tabular.cell_value(title, title, "") == (None, "Required")
    assert tabular.cell_value(title, title, None) == (None, "Required")
    assert tabular.cell_value(description, description, None) == ("", None)  # may be empty, never null
    assert tabular.cell_value(due, due, "") == (None, None)  # nullable: cleared
    assert tabular.cell_value(tags, tags, "finance, q3") == (["finance", "q3"], None)
    assert tabular.cell_value(count, count, "-1") == ("-1", "Must be at least 0")
    assert tabular.cell_value(count, count, "7") == (7, None)


def test_a_refusal_names_the_field_or_its_items() -> None:
    errors = {"tags.1": "String should have at least 1 character", "title": "Too long"}
    assert tabular.field_message(errors, "tags") == "String should have at least 1 character"
    assert tabular.field_message(errors, "title") == "Too long" and tabular.field_message(errors, "x") is None


def test_bulk_preview_lists_exactly_the_rows_that_change_in_readable_words() -> None:
    rows = [{"id": "1", "title": "A", "status": "todo", "due": "2026-12-24T15:45:00Z"},
            {"id": "2", "title": "B", "status": "in_progress", "due": "2026-12-24T15:45:00+00:00"}]
    lines = tabular.bulk_preview(rows, {"status": "in_progress"}, spec=SPECS["status"])
    assert lines == [{"id": "1", "label": "A", "changes": ["Status: Todo → In progress"]}]
    assert tabular.bulk_preview(rows[:1], {"due": "2026-12-25T09:00:00Z"}, spec=SPECS["due"])[0]["changes"] == [
        "Due: ", {"instant": "2026-12-24T15:45:00Z"}, " → ", {"instant": "2026-12-25T09:00:00Z"}]  # said locally
    assert tabular.bulk_preview(rows, {"due": "2026-12-24T15:45:00"}, spec=SPECS["due"]) == []  # same moment
    assert not tabular.bulk_editable(SPECS["title"].__class__("owner_id", "owner_id", "string", "Owner"))


def test_a_typed_list_entry_is_split_at_its_commas() -> None:
    assert split("finance, q3") == ["finance", "q3"]
    assert split(" solo ,, ") == ["solo"]


def test_a_bulk_edit_clears_only_what_a_record_may_be_without() -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    from webos_shell.bulk import cleared

    explorer = SimpleNamespace(specs=list(SPECS.values()))
    assert cleared(explorer, SPECS["due"]) == (True, None)  # nullable: none
    assert cleared(explorer, replace(SPECS["tags"], required=False)) == (True, [])  # the update schema's
    assert cleared(explorer, SPECS["description"]) == (True, "")  # a text that may be empty, never null
    assert cleared(explorer, SPECS["count"]) == (True, None)  # not required
    assert cleared(explorer, SPECS["title"])[0] is False and cleared(explorer, SPECS["status"])[0] is False
    lines = tabular.bulk_preview([{"id": "a", "due": "2031-01-02T09:00:00Z"}, {"id": "b", "due": None}],
                                 {"due": None}, spec=SPECS["due"])
    assert [line["id"] for line in lines] == ["a"]  # the row already without one is not sent (nor counted)
