from __future__ import annotations

import csv
import io

from webos_shell import tabular
from webos_shell.admin.logs import passes, record_of
from webos_shell.admin.settings_editor import changed_only
from webos_shell.components import parse
from webos_shell.components.kanban import group
from webos_shell.schema_fields import FieldSpec
from webos_shell.theme import theme_from_settings

ROWS = [{"id": "1", "title": "A", "status": "todo"}, {"id": "2", "title": "B", "status": "done"},
        {"id": "3", "title": "C", "status": "todo", "tags": ["x", "y"]}]


def test_bulk_preview_lists_only_rows_that_change() -> None:
    preview = tabular.bulk_preview(ROWS, {"status": "done"})
    assert preview == [{"id": "1", "label": "A", "changes": ["status: todo → done"]},
                       {"id": "3", "label": "C", "changes": ["status: todo → done"]}]


def test_csv_export_round_trips() -> None:
    text = tabular.to_csv(ROWS, ["id", "title", "tags"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[2] == {"id": "3", "title": "C", "tags": "x; y"}


def test_page_query_is_what_the_collection_api_reads() -> None:
    assert tabular.page_query(page=2, size=25, sort="due", descending=True, filters={"status": "todo", "x": ""},
                              search=" milk ") == {"skip": 50, "limit": 25, "sort": "-due", "q": "milk",
                                                   "status": "todo"}


def test_column_defs_hide_internal_fields_and_offer_enum_choices() -> None:
    specs = [FieldSpec("id", "id", "string", "Id"), FieldSpec("owner_id", "owner_id", "string", "Owner"),
             FieldSpec("status", "status", "enum", "Status", options=["todo", "done"])]
    cols = tabular.column_defs(specs, editable=True)
    assert [c["field"] for c in cols] == ["status"]
    assert cols[0]["editable"] is True and cols[0]["cellEditorParams"] == {"values": ["todo", "done"]}


def test_kanban_groups_by_column_in_enum_order() -> None:
    grouped = group(ROWS, "status", ["todo", "in_progress", "done"])
    assert list(grouped) == ["todo", "in_progress", "done"]
    assert [r["id"] for r in grouped["todo"]] == ["1", "3"] and grouped["in_progress"] == []


def test_component_entries() -> None:
    builtin = parse("kanban:status")
    assert (builtin.name, builtin.target, builtin.option, builtin.built_in) == ("kanban", "kanban", "status", True)
    shipped = parse("board=webos_tasks.shell:board;label=Board;collection=tasks;permission=tasks.read")
    assert (shipped.name, shipped.target, shipped.label, shipped.collection, shipped.built_in) == (
        "board", "webos_tasks.shell:board", "Board", "tasks", False)


def test_views_hide_what_the_person_may_not_open_and_skip_bad_entries() -> None:
    from webos_common.identity import User
    from webos_shell.components import views

    entries = ["board=webos_tasks.shell:board;permission=tasks.read", "kanban", "bad=no-colon"]
    reader = User(id="u", permissions=("tasks.read",))
    assert list(views(entries, reader)) == ["board", "kanban"]
    assert list(views(entries, User(id="v"))) == ["kanban"]


def test_theme_takes_valid_brand_values_only() -> None:
    theme = theme_from_settings({"branding": {"brand_name": "Acme", "primary_color": "#112233",
                                              "secondary_color": "red", "dark_mode": True}})
    assert (theme.brand_name, theme.primary, theme.dark) == ("Acme", "#112233", True)
    assert theme.secondary == "#0ea5e9"
    assert theme_from_settings(None).brand_name == "WebOS"


def test_log_records_and_filters() -> None:
    record = record_of("webos.logs.auth", b'{"level": "warning", "message": "slow"}')
    assert (record["service"], record["level"]) == ("auth", "WARNING")
    assert passes(record, "INFO", "") and passes(record, "WARNING", "auth")
    assert not passes(record, "ERROR", "") and not passes(record, "INFO", "gateway")
    assert passes(record, "INFO", "", "SLO") and passes(record, "INFO", "", "auth:")  # any case, the whole line
    assert not passes(record, "INFO", "", "fast")
    assert record_of("webos.logs.x", b"plain text")["message"] == "plain text"


def test_masked_secrets_are_not_sent_back() -> None:
    original = {"smtp_password": "********", "host": "a"}
    assert changed_only({"smtp_password": "********", "host": "b"}, original, {"smtp_password"}) == {"host": "b"}
    assert changed_only({"smtp_password": "new"}, original, {"smtp_password"}) == {"smtp_password": "new"}


def test_task_events_fold_into_state() -> None:
    from webos_shell.progress import merge

    tasks: dict = {}
    assert merge(tasks, {"type": "task:status", "data": {"task_id": "t1", "name": "export", "state": "running"}})
    assert merge(tasks, {"type": "task:progress", "data": {"task_id": "t1", "percent": 40, "message": None}})
    assert tasks == {"t1": {"task_id": "t1", "name": "export", "state": "running", "percent": 40}}
    assert not merge(tasks, {"type": "notification:created", "data": {"task_id": "x"}})


def test_the_shell_loads_built_in_views_only() -> None:
    from webos_shell.components import load
    from webos_shell.components.kanban import render

    assert load("kanban") is render
    assert load("webos_tasks.shell:board") is None  # a module's own view runs in its host, never here


def test_only_shell_module_setting_changes_drop_the_brand() -> None:
    from webos_common.bus.envelope import EventEnvelope
    from webos_common.bus.wire import envelope_body, envelope_headers
    from webos_shell.theming import brand_changed

    def changed(**payload: str) -> bool:  # the event as it is on the wire (CloudEvents binary mode)
        envelope = EventEnvelope(topic="settings:changed", payload=payload, source="settings")
        return brand_changed(envelope_body(envelope), envelope_headers(envelope))

    assert changed(layer="module", module="shell")
    assert not changed(layer="user", module="shell")
    assert not changed(layer="module", module="tasks")
    assert not brand_changed(b"garbage")
    assert not brand_changed(b"garbage", {"ce-specversion": "1.0"})


def test_a_module_view_is_a_frame_through_the_shell() -> None:
    from webos_common.modules import shell_frame

    assert shell_frame.frame_src("tasks", "board", "tag=x") == "/_frame/tasks/board?tag=x"
    assert shell_frame.ui_prefix("tasks") == "/api/tasks/ui"
    # whose pieces a write reloads: the module its path names, nothing for the platform's own pages
    assert shell_frame.module_of("/api/tasks/tasks/bulk?x=1") == "tasks"
    assert shell_frame.module_of("/api/my-mod") == "my-mod"
    assert [shell_frame.module_of(p) for p in ("/metrics", "/api", "/api/..", "/m/tasks", "/api/x'y/z")] == [None] * 5
    assert shell_frame.valid("tasks", "board") and shell_frame.valid("my-mod", "open_count")
    for module, name in (("../auth", "x"), ("tasks", "a/b"), ("Tasks", "board"), ("tasks", "")):
        assert not shell_frame.valid(module, name), (module, name)


def test_slot_components_are_not_page_views() -> None:
    from webos_common.identity import User
    from webos_shell.components import views

    entries = ["board=m.shell:board", "count=m.shell:count;slot=sidebar", "top=m.shell:top;slot=header"]
    someone = User(id="u")
    assert list(views(entries, someone)) == ["board"]
    assert list(views(entries, someone, slot="sidebar")) == ["count"]


def test_an_fs_urn_string_is_a_file_field_checked_for_its_address() -> None:
    from webos_shell.schema_checks import validate
    from webos_shell.schema_fields import fields_from_schema

    schema = {"type": "object", "properties": {
        "attachment": {"anyOf": [{"type": "string", "format": "fs-urn"}, {"type": "null"}], "default": None},
        "cover": {"type": "string", "x-file": True}}}
    specs = fields_from_schema(schema)
    assert [(s.name, s.kind) for s in specs] == [("attachment", "file"), ("cover", "file")]
    assert validate(specs, {"attachment": "https://elsewhere/x"}) == {"attachment": "Pick a file (an fs:// address)"}
    assert validate(specs, {"attachment": "fs://local/home/u/a.txt", "cover": "/mnt/team/c.png"}) == {}


def test_the_sign_in_notice_is_a_known_key_only() -> None:
    from webos_shell.session import login_url

    assert login_url("/account", notice="password_changed") == "/login?next=%2Faccount&notice=password_changed"
    assert login_url("/x", notice="<script>") == "/login?next=%2Fx"  # nothing from outside is shown


def test_a_row_as_a_phones_card_reads_like_the_grid() -> None:
    from webos_shell.schema_fields import fields_from_schema
    from webos_shell.tabular import card_of

    specs = fields_from_schema({"type": "object", "properties": {
        "title": {"type": "string"}, "status": {"enum": ["in_progress", "done"]},
        "tags": {"type": "array", "items": {"type": "string"}}, "due_date": {"type": "string", "format": "date-time"},
        "notes": {"type": "string"}, "owner_id": {"type": "string"}}})
    row = {"id": "t1", "title": "Pay", "status": "in_progress", "tags": ["q3", "finance"],
           "due_date": "2026-12-09T10:00:00Z", "notes": "", "owner_id": "u1"}
    heading, lines = card_of(row, specs)
    assert heading == "Pay"
    assert lines == [("Status", "In progress"), ("Tags", "q3, finance"),
                     ("Due date", {"instant": "2026-12-09T10:00:00Z"})]  # the browser says it in local time
    assert card_of({"id": "x9"}, specs) == ("x9", [])


def test_a_page_after_a_cursor_sends_the_cursor_and_no_skip() -> None:
    assert tabular.page_query(page=7, size=25, sort=None, descending=False, filters={},
                              cursor="abc") == {"cursor": "abc", "limit": 25}


def test_the_pager_says_more_than_the_cap_never_the_cap_as_the_count() -> None:
    """A capped count (`meta=capped`: `total` null, `more_than` 1,000) is not a number of rows."""
    assert tabular.page_label(0, 25, None, 1_000) == "Page 1 of more than 40 · more than 1,000 rows"
    assert tabular.row_count(None, 10_000) == "more than 10,000 rows"
    assert tabular.page_label(2, 25, 290) == "Page 3 of 12 · 290 rows"
    assert tabular.page_label(0, 25, 0) == "Page 1 of 1 · 0 rows"
