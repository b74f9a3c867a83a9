"""The export asks for the grid's whole filtered list: its filters, search,
order and columns, never its page."""

from __future__ import annotations

from types import SimpleNamespace

from webos_shell.transfer import export_query


def test_export_query_is_the_filter_not_the_page() -> None:
    explorer = SimpleNamespace(
        state={"page": 3, "size": 25, "sort": "due_date", "desc": True, "filters": {"status": "todo", "tag": ""},
               "q": " report ", "trash": False, "total": 900},
        grid=SimpleNamespace(options={"columnDefs": [{"field": "title"}, {"field": "status"}]}))
    assert export_query(explorer) == {"sort": "-due_date", "q": "report", "status": "todo",
                                      "fields": "title,status"}
