"""The settings history's words: a version's heading and its changes as `key: old → new`."""

from __future__ import annotations

from webos_shell.admin.settings_history import change_lines, heading


def test_a_version_reads_as_who_how_and_what_changed() -> None:
    entry = {"version": 4, "at": "2026-12-07T06:10:11.123+00:00", "action": "merge",
             "changes": [{"key": "default_view", "old": "kanban", "new": "list"},
                         {"key": "smtp.password", "old": None, "new": "********"},
                         {"key": "limits", "old": [1, 2], "new": {"a": True}}]}
    assert heading(entry) == "v4 · 2026-12-07 06:10 · Merge"
    assert change_lines(entry) == ["default_view: kanban → list", "smtp.password: — → ********",
                                   'limits: [1, 2] → {"a": true}']


def test_a_rollback_names_the_version_it_went_back_to() -> None:
    assert heading({"version": 7, "at": "2026-12-07T06:00:00", "action": "rollback:3"}).endswith("rolled back to v3")
    assert change_lines({"version": 1}) == []
