"""What the conflict dialog says and compares (pure)."""

from __future__ import annotations

from webos_shell.conflict import changed_by, difference, differences
from webos_shell.schema_fields import fields_from_schema


def test_who_changed_the_record_and_when() -> None:
    details = {"version": 3, "updated_by": "u-42", "updated_at": "2026-12-05T17:01:02.345+00:00"}
    assert changed_by(details) == ["u-42 changed this record at ", {"instant": "2026-12-05T17:01:02.345+00:00"}]
    assert changed_by(None) == ["someone changed this record"]  # (the browser says the instant in local time)


def test_differences_are_the_fields_i_changed_that_now_differ() -> None:
    mine = {"title": "mine", "priority": "high"}
    current = {"title": "theirs", "priority": "high", "status": "done"}
    assert differences(mine, current) == [("title", "mine", "theirs")]


def test_a_difference_reads_as_the_grid_says_it() -> None:
    specs = fields_from_schema({"type": "object", "properties": {
        "due_date": {"type": "string", "format": "date-time"}, "priority": {"enum": ["low", "high"]}}})
    assert difference("due_date", "2031-12-24T15:00:00Z", None, specs) == [
        "Due date: yours ", {"instant": "2031-12-24T15:00:00Z"}, " — saved —"]
    assert difference("priority", "high", "low", specs) == ["Priority: yours High — saved Low"]
    assert difference("title", "mine", "theirs") == ["title: yours mine — saved theirs"]
