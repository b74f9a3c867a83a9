"""Import and export in the shell's grid, in chromium against the whole platform:
a 10,000-row CSV with 3 bad rows (the dry run lists exactly those, the import
shows its progress and ends with a notification, 9,997 tasks exist after), an
Excel import, and an export of a filtered list whose rows all match the filter."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

import pytest
from openpyxl import Workbook

PASSWORD = "import-pass-1234"
ROWS = 10_000
BAD = {1234: ("title", ""), 5678: ("priority", "whenever"), 9001: ("due_date", "not a date")}


@pytest.fixture(scope="module")
def platform(own_platform: Any) -> Any:
    """10,000 imported rows and their events on a platform of their own, not the shared one."""
    return own_platform


def _notified(platform: Any, token: str, title: str) -> None:
    """The person has the notification (the toast is its live push, which a page may miss)."""
    notes = lambda: platform.get_ok(token, "/api/events/notifications")["items"]  # noqa: E731
    assert platform.until(lambda: any(n.get("title") == title for n in notes()), timeout=60), notes()


def _person(shell: Any, platform: Any) -> tuple[str, str]:
    name, _ = platform.sign_up(PASSWORD)
    shell.sign_in(name, PASSWORD, "/m/tasks")
    return name, platform.login(name, PASSWORD)


def _big_csv(tag: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Title", "Priority", "Due date", "Tags"])
    for i in range(ROWS):
        row = {"title": f"{tag} {i:05d}", "priority": ("low", "medium", "high")[i % 3], "due_date": "2031-01-02",
               "tags": "import; e2e"}
        if i in BAD:
            field, value = BAD[i]
            row[field] = value
        writer.writerow([row["title"], row["priority"], row["due_date"], row["tags"]])
    return out.getvalue().encode()


def _upload(shell: Any, name: str, data: bytes, mime: str) -> None:
    shell.page.get_by_test_id("explorer-import").click()
    dialog = shell.page.get_by_test_id("import-dialog")
    dialog.wait_for()
    dialog.locator("input[type=file]").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def _total(platform: Any, token: str, **params: Any) -> int:
    with platform.api(token) as client:
        answer = client.get("/api/tasks/tasks", params={"meta": "total", "limit": 1, **params})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def test_a_10000_row_csv_with_3_bad_rows(shell: Any, platform: Any) -> None:
    name, _ = _person(shell, platform)
    tag = f"imp{uuid.uuid4().hex[:6]}"
    page = shell.page
    _upload(shell, "tasks.csv", _big_csv(tag), "text/csv")
    summary = page.get_by_test_id("import-summary")
    summary.get_by_text(f"{ROWS} rows").wait_for()
    page.get_by_test_id("import-dry-run").click()
    summary.get_by_text("Dry run: 9997 of 10000").wait_for(timeout=60_000)
    errors = page.get_by_test_id("import-errors").locator("tbody tr")
    assert errors.count() == 3
    listed = [errors.nth(i).locator("td").first.inner_text() for i in range(3)]
    assert listed == [str(i + 2) for i in sorted(BAD)]  # the file's row numbers: the header is row 1
    assert [errors.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == ["title", "priority", "due_date"]
    shell.shot("import-dry-run")
    page.get_by_test_id("import-start").click()
    page.get_by_test_id("import-progress").wait_for()
    summary.filter(has_text=re.compile(r"Importing: \d+ of 9997 rows \(\d+ %\)")).wait_for(timeout=120_000)
    shell.shot("import-progress")
    summary.get_by_text("Imported 9997 rows; 3 skipped.").wait_for(timeout=600_000)
    fresh = platform.login(name, PASSWORD)  # a fresh token: the first expired
    _notified(platform, fresh, "Import into Tasks finished")
    assert _total(platform, fresh, q=tag) == 9997


def test_excel_import_and_filtered_export(shell: Any, platform: Any) -> None:
    name, _ = _person(shell, platform)
    tag = f"xl{uuid.uuid4().hex[:6]}"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["title", "priority"])
    for i in range(60):
        sheet.append([f"{tag} {i:02d}", "urgent" if i % 4 == 0 else "low"])
    data = io.BytesIO()
    book.save(data)
    _upload(shell, "tasks.xlsx", data.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    page = shell.page
    page.get_by_test_id("import-summary").get_by_text("60 rows").wait_for()
    page.get_by_test_id("import-start").click()
    page.get_by_test_id("import-summary").get_by_text("Imported 60 rows; 0 skipped.").wait_for(timeout=120_000)
    assert _total(platform, platform.login(name, PASSWORD), q=tag) == 60
    page.keyboard.press("Escape")
    shell.open("/m/tasks?priority=urgent")
    page.get_by_test_id("explorer-export").click()
    with page.expect_download() as download:
        page.get_by_test_id("explorer-export-csv").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 15 and {r["priority"] for r in rows} == {"urgent"}
    assert {r["title"] for r in rows} == {f"{tag} {i:02d}" for i in range(0, 60, 4)}


def test_export_to_files_as_a_task(shell: Any, platform: Any) -> None:
    """Above what downloads at once, an export is a background task writing the file to the
    person's storage: here asked of the API directly, on a small filtered set."""
    name, token = _person(shell, platform)
    tag = f"ex{uuid.uuid4().hex[:6]}"
    with platform.api(token) as client:
        for i in range(12):
            made = client.post("/api/tasks/tasks", json={"title": f"{tag} {i}", "priority": ("low", "high")[i % 2]})
            assert made.status_code == 201, made.text
        started = client.post("/api/tasks/tasks/export", params={"format": "csv", "priority": "high", "q": tag})
        assert started.status_code == 202, started.text
        task_id, urn = started.json()["task_id"], started.json()["urn"]
        assert "/Exports/tasks-" in urn and started.json()["rows"] == 6

        def finished() -> Any:
            record = client.get(f"/api/events/tasks/{task_id}").json()
            return record if record.get("state") in ("succeeded", "failed", "cancelled") else None

        record = platform.until(finished, timeout=60)
        assert record and record["state"] == "succeeded", record
        content = client.get("/api/storage/files/content", params={"urn": urn})
        assert content.status_code == 200, content.text
    rows = list(csv.DictReader(io.StringIO(content.content.decode("utf-8-sig"))))
    assert len(rows) == 6 and {r["priority"] for r in rows} == {"high"} and all(tag in r["title"] for r in rows)
    _notified(platform, platform.login(name, PASSWORD), "Export of Tasks finished")
