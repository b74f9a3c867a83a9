from webos_shell.record_history import Entry, describe, entries
from webos_shell.schema_fields import fields_from_schema

SPECS = {s.name: s for s in fields_from_schema({"type": "object", "properties": {
    "title": {"type": "string"}, "status": {"enum": ["todo", "done"], "x-enumNames": ["To do", "Done"]},
    "due": {"type": ["string", "null"], "format": "date-time", "title": "Due"}}})}


def _event(topic: str, user: str, at: str, **payload):
    return {"topic": topic, "user_id": user, "timestamp": at, "payload": payload}


def test_changes_name_the_value_before_and_after_and_bulk_edits_their_fields() -> None:
    log = [  # newest first, as the events service answers
        _event("task:deleted", "u2", "2026-01-03T00:00:00", id="t", title="Two", tags=["a"]),
        _event("task:bulk_updated", "u2", "2026-01-02T12:00:00", ids=["t", "x"], changed=["status"]),
        _event("task:updated", "u2", "2026-01-02T00:00:00", id="t", title="Two", tags=["a"], changed=["title"]),
        _event("task:created", "u1", "2026-01-01T00:00:00", id="t", title="One", tags=["a"]),
    ]
    found = entries(log)
    assert [e.action for e in found] == ["deleted", "bulk_updated", "updated", "created"]
    assert found[2].changes == [("title", "One", "Two")]
    assert describe(found[2].changes[0], SPECS) == ["Title: One → Two"]
    assert found[1].sentence({"u2": "Bea"}, {"status": "Status"}) == "Bea changed (bulk edit) Status"
    assert found[0].sentence({}, {}) == "u2 moved it to the trash"
    assert found[3].sentence({"u1": "Al"}, {}) == "Al created it"


def test_an_update_without_changed_names_is_diffed_against_the_record_before() -> None:
    log = [_event("note:updated", "u", "t2", id="n", body="b", version=2),
           _event("note:created", "u", "t1", id="n", body="a", version=1)]
    assert entries(log)[0].changes == [("body", "a", "b")]
    assert describe(("tags", [], None), {}) == ["tags: — → —"]
    assert Entry("", "", "restored").sentence({}, {}) == "Someone restored it from the trash"


def test_a_change_reads_as_the_grid_says_it_times_left_to_the_browser() -> None:
    """A time is an instant the browser says in the person's own time zone, never UTC text."""
    assert describe(("status", "todo", "done"), SPECS) == ["Status: To do → Done"]
    assert describe(("due", None, "2031-12-24T15:45:00Z"), SPECS) == [
        "Due: — → ", {"instant": "2031-12-24T15:45:00Z"}]


def test_record_results_and_grid_rows_lead_to_record_pages() -> None:
    from webos_shell.palette import record_path
    from webos_shell.tabular import open_column

    assert record_path("/m/inventory/items", "a b") == "/m/inventory/items/a%20b"
    assert record_path("/m/tasks", "t1") == "/m/tasks?id=t1"  # a module's own search: its first collection
    column = open_column("/m/tasks/tasks/")
    assert column["field"] == "id" and '"/m/tasks/tasks/"' in column[":cellRenderer"]



def test_a_workflow_step_says_what_it_moved_and_why_and_keeps_the_rest_of_the_record() -> None:
    log = [_event("order:updated", "u1", "t4", id="o", state="rejected", total=9.0, note="x", version=4,
                  changed=["note"]),
           _event("order:rejected", "u2", "t3", id="o", version=3, state="rejected", by="u2", reason="too dear"),
           _event("order:submitted", "u1", "t2", id="o", version=2, state="submitted", by="u1", reason=None),
           _event("order:created", "u1", "t1", id="o", state="draft", total=9.0, note="", version=1)]
    found = entries(log)
    assert [e.action for e in found] == ["updated", "rejected", "submitted", "created"]
    assert found[2].changes == [("state", "draft", "submitted")]
    assert found[1].changes == [("state", "submitted", "rejected")]
    assert found[1].sentence({"u2": "Dana"}, {}) == "Dana rejected: “too dear”"
    assert found[2].sentence({"u1": "Sam"}, {}) == "Sam submitted"
    assert found[0].changes == [("note", "", "x")]  # the step's partial payload did not lose `note`
