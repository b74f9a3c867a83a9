"""What the conflict dialog says and compares (pure)."""

from __future__ import annotations

from webos_shell.conflict import changed_by, differences


def test_who_changed_the_record_and_when() -> None:
    details = {"version": 3, "updated_by": "u-42", "updated_at": "2026-12-05T17:01:02.345+00:00"}
    assert changed_by(details) == "u-42 changed this record at 2026-12-05 17:01:02 UTC"
    assert changed_by(None) == "someone changed this record"


def test_differences_are_the_fields_i_changed_that_now_differ() -> None:
    mine = {"title": "mine", "priority": "high"}
    current = {"title": "theirs", "priority": "high", "status": "done"}
    assert differences(mine, current) == [("title", "mine", "theirs")]
