"""Import and export of the tasks collection through the routes the module host
generates for every collection (`webos_modulehost.transfer`), on real MongoDB
and NATS: the dry run names each bad row, the import runs as a background task
whose record reaches 100 % and creates the good rows once (a second run of the
same file creates nothing), and the export streams the whole filtered list."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime
from typing import Any

import httpx
from bson import ObjectId
from openpyxl import Workbook, load_workbook

from webos_common import tasks
from webos_common.documents.sharing import REACH_FIELD, row_reach
from webos_common.identity import User
from webos_common.tasks import TaskState
from webos_modulehost.transfer.loopback import Loopback

ENDPOINT = "/api/tasks/tasks"


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _file(rows: list[list[str]], name: str = "tasks.csv") -> dict[str, Any]:
    return {"file": (name, _csv(rows), "text/csv")}


async def _finished(task_id: str, timeout: float = 60.0) -> Any:
    record = await tasks.wait(task_id, timeout=timeout, poll=0.1)
    assert record.state is TaskState.succeeded, record.error
    return record


async def test_preview_guesses_the_mapping_by_name(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    rows = [["Title", "PRIORITY", "Due date", "Notes"], ["one", "high", "2030-01-01", "x"]]
    answer = await client.post(f"{ENDPOINT}/import/preview", files=_file(rows), headers=alice)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["mapping"] == {"Title": "title", "PRIORITY": "priority", "Due date": "due_date"}
    assert body["rows"] == 1 and body["sample"] == [["one", "high", "2030-01-01", "x"]]
    assert {"name": "title", "title": "Title", "required": True} in body["fields"]


async def test_dry_run_names_each_bad_row_and_writes_nothing(client: httpx.AsyncClient,
                                                             alice: dict[str, str]) -> None:
    rows = [["title", "priority", "tags"], ["fine", "low", "a; b"], ["", "low", ""], ["also fine", "soon", ""],
            ["third", "high", "x,y"]]
    answer = await client.post(f"{ENDPOINT}/import/dry-run", files=_file(rows), headers=alice)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["rows"], body["valid"], body["invalid"]) == (4, 2, 2)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "title"), (4, "priority")]
    listed = await client.get(ENDPOINT, params={"meta": "total"}, headers=alice)
    assert listed.json()["total"] == 0


async def test_bad_file_and_mapping_are_422_naming_the_field(client: httpx.AsyncClient,
                                                             alice: dict[str, str]) -> None:
    wrong = await client.post(f"{ENDPOINT}/import/dry-run", files={"file": ("x.pdf", b"%PDF", "application/pdf")},
                              headers=alice)
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "format"
    mapping = await client.post(f"{ENDPOINT}/import/dry-run", files=_file([["a"], ["b"]]),
                                data={"mapping": json.dumps({"a": "nosuchfield"})}, headers=alice)
    assert mapping.status_code == 422 and mapping.json()["error"]["details"][0]["field"] == "mapping"
    broken = await client.post(f"{ENDPOINT}/import/dry-run", files={"file": ("x.xlsx", b"not a zip", "x")},
                               headers=alice)
    assert broken.status_code == 422 and broken.json()["error"]["details"][0]["field"] == "file"


async def test_import_runs_as_a_task_and_a_rerun_creates_nothing_twice(
        app: object, client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    rows = [["Name", "priority"]] + [[f"task {i}", "urgent" if i == 7 else "low"] for i in range(450)]
    rows[100][1] = "whenever"
    mapping = json.dumps({"Name": "title", "priority": "priority"})
    for _ in range(2):
        started = await client.post(f"{ENDPOINT}/import", files=_file(rows), data={"mapping": mapping},
                                    headers=alice)
        assert started.status_code == 202, started.text
        record = await _finished(started.json()["task_id"])
        assert record.percent == 100.0 and record.user_id == "alice"
        assert record.result["created"] == 449 and record.result["skipped"] == 1
        assert record.result["errors"][0]["row"] == 101
        listed = await client.get(ENDPOINT, params={"meta": "total", "limit": 1}, headers=alice)
        assert listed.json()["total"] == 449  # the second run replayed each row's idempotency key
    outbox = app.state.resources.db["tasks_outbox"]  # type: ignore[attr-defined]
    told = await outbox.find({"envelope.topic": "notification:send"}).to_list(None)
    notes = [row["envelope"]["payload"] for row in told]
    assert [(n["user_id"], n["title"], n["message"]) for n in notes] == [
        ("alice", "Import into Tasks finished", "449 rows imported, 1 skipped")] * 2


async def test_excel_import(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["title", "priority", "due_date"])
    sheet.append(["from excel", "high", "2031-05-06"])
    sheet.append(["second", "low", None])
    data = io.BytesIO()
    book.save(data)
    files = {"file": ("tasks.xlsx", data.getvalue(), "application/octet-stream")}
    started = await client.post(f"{ENDPOINT}/import", files=files, headers=alice)
    assert started.status_code == 202, started.text
    await _finished(started.json()["task_id"])
    listed = (await client.get(ENDPOINT, params={"sort": "title"}, headers=alice)).json()["items"]
    assert [(t["title"], t["priority"]) for t in listed] == [("from excel", "high"), ("second", "low")]
    assert listed[0]["due_date"].startswith("2031-05-06")


async def _seed(client: httpx.AsyncClient, who: dict[str, str], count: int) -> None:
    rows = [["title", "priority"]] + [[f"t{i:04d}", "high" if i % 3 == 0 else "low"] for i in range(count)]
    started = await client.post(f"{ENDPOINT}/import", files=_file(rows), headers=who)
    await _finished(started.json()["task_id"])


async def test_export_streams_the_whole_filtered_list(client: httpx.AsyncClient, alice: dict[str, str],
                                                      bob: dict[str, str]) -> None:
    await asyncio.gather(_seed(client, alice, 330), _seed(client, bob, 5))
    answer = await client.get(f"{ENDPOINT}/export", params={"priority": "high", "fields": "title,priority"},
                              headers=alice)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 110  # every third of 330, over two pages and more: not only the first page
    assert {r["priority"] for r in rows} == {"high"} and len({r["id"] for r in rows}) == 110
    assert list(rows[0]) == ["id", "title", "priority"]
    excel = await client.get(f"{ENDPOINT}/export", params={"format": "xlsx", "priority": "low"}, headers=alice)
    sheet = load_workbook(io.BytesIO(excel.content), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 1 + 220 and "title" in values[0]
    bad = await client.get(f"{ENDPOINT}/export", params={"format": "pdf"}, headers=alice)
    assert bad.status_code == 422
    refused = await client.get(f"{ENDPOINT}/export", params={"priority": "someday"}, headers=alice)
    assert refused.status_code == 422 and "priority" in refused.text  # the list's own refusal, before any byte
    unknown = await client.get(f"{ENDPOINT}/export", params={"fields": "title,nosuch"}, headers=alice)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "fields"


async def test_an_export_to_files_refuses_an_unknown_field_before_anything_starts(
        client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    """Not a job that fails later with "Invalid input: fields": the 422 at once, no task id."""
    for params, field in (({"fields": "title,nosuch"}, "fields"), ({"priority": "someday"}, "priority")):
        answer = await client.post(f"{ENDPOINT}/export", params=params, headers=alice)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["details"][0]["field"] == field and "task_id" not in answer.text


def _as_csv(value: Any) -> str:
    """A value of the list's JSON as the export's CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


async def test_export_says_what_the_list_says_of_the_rows_one_reaches(
        app: Any, client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]) -> None:
    """The pages an export reads are handed over in-process, not as JSON: each cell of every field
    must still be the list's own (dates, lists, enums, empty values), for exactly the rows the
    person reaches (theirs and those shared with them; not another's)."""
    made = [await client.post(ENDPOINT, json=body, headers=who) for who, body in [
        (alice, {"title": 'plain, "quoted"', "tags": ["x", "y"], "priority": "high",
                 "due_date": "2031-05-06T07:08:09.123Z"}),
        (alice, {"title": "bare"}),
        (bob, {"title": "shared by bob", "status": "in_progress"}),
        (bob, {"title": "bob's own"})]]
    assert all(m.status_code == 201 for m in made), [m.text for m in made]
    shares = [{"kind": "user", "id": "alice", "access": "read"}]  # as `PUT .../shares` leaves the row (this
    # host has no directory of people to check "alice" against)
    await app.state.resources.db["tasks_items"].update_one({"_id": ObjectId(made[2].json()["id"])}, {
        "$set": {"shares": shares, REACH_FIELD: row_reach("bob", [], shares)}})
    listed = (await client.get(ENDPOINT, headers=alice)).json()["items"]
    answer = await client.get(f"{ENDPOINT}/export", headers=alice)
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows and rows[0].keys() >= {"id", "title", "tags", "due_date", "status", "owner_id", "created_at"}
    assert rows == [{c: _as_csv(item.get(c)) for c in rows[0]} for item in listed]
    assert [r["title"] for r in rows] == ["shared by bob", "bare", 'plain, "quoted"']
    assert rows[2]["tags"] == "x; y" and rows[2]["due_date"] == "2031-05-06T07:08:09.123000Z"


async def test_the_export_reads_pages_handed_over_not_encoded(app: Any, client: httpx.AsyncClient,
                                                              alice: dict[str, str]) -> None:
    """What makes an export fast: in-process, the list route hands its page over as MongoDB gave the
    rows (a date is still a datetime), scoped to the person as ever."""
    await client.post(ENDPOINT, json={"title": "dated", "due_date": "2031-05-06T07:08:09Z"}, headers=alice)
    reader = User(id="alice", permissions=("tasks.read",))
    async with Loopback(app, reader) as loop:
        page = await loop.page(ENDPOINT, {"fields": "title,due_date"})
    assert [(row["title"], type(row["due_date"])) for row in page["items"]] == [("dated", datetime)]
    async with Loopback(app, User(id="bob", permissions=("tasks.read",))) as loop:
        assert (await loop.page(ENDPOINT, {"fields": "title"}))["items"] == []
