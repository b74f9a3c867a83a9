"""Files (`/files`) in the browser, as the admin in their own home: a new
folder, a text file uploaded into it and listed, downloaded (the bytes
checked), tagged, renamed, found by search, moved to the trash and restored
from there — each step checked against storage's API too. The browser is in
New York: every time the pages say (listing, preview, search, trash) is its
local time, never UTC's."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONTENT = b"hello from the files page\n"


def _row(page: Any, name: str) -> Any:
    return page.locator(f'[data-testid="file-row"][data-name="{name}"]')


def _stat(platform: Any, token: str, urn: str) -> Any:
    with platform.api(token) as client:
        return client.get("/api/storage/files/stat", params={"urn": urn})


def _said(admin: Any, where: Any, testid: str, iso: str, before: str = "") -> None:
    """`where` says the UTC instant `iso` (at `testid`) as the person reads it where they are,
    not in UTC."""
    local = admin.local_time(iso)
    expect(where).to_contain_text(before + local)
    expect(where.get_by_test_id(testid)).to_have_text(before + local)
    assert "UTC" not in where.inner_text()


def test_files_page(admin_in_new_york: Any, platform: Any, admin_token: str) -> None:
    admin = admin_in_new_york
    page = admin.page
    tag = uuid.uuid4().hex[:8]
    folder, name, renamed = f"e2e-{tag}", f"hello-{tag}.txt", f"renamed-{tag}.txt"
    with platform.api(admin_token) as client:
        home = client.get("/api/storage/sources").json()["home"]

    # -- the sidebar leads here; the home is the default folder ---------------------------------
    admin.open("/")
    page.get_by_test_id("nav-files").click()
    page.wait_for_url(re.compile(r"/files$"))
    expect(page.get_by_test_id("page-title")).to_have_text("Files")
    expect(page.get_by_test_id("files-crumb").first).to_have_text("Home")

    # -- a new folder, opened -------------------------------------------------------------------
    page.get_by_test_id("files-mkdir").click()
    page.get_by_test_id("files-mkdir-name").fill(folder)
    page.get_by_test_id("files-mkdir-confirm").click()
    _row(page, folder).get_by_test_id("file-open").click()
    page.wait_for_url(re.compile(r"/files\?urn="))
    expect(page.get_by_test_id("files-crumb").last).to_have_text(folder)
    page.get_by_test_id("files-empty").wait_for()
    folder_urn = f"{home}{folder}/"
    assert _stat(platform, admin_token, folder_urn).json()["is_dir"] is True

    # -- upload into it ---------------------------------------------------------------------------
    page.get_by_test_id("files-upload").locator('input[type="file"]').set_input_files(
        {"name": name, "mimeType": "text/plain", "buffer": CONTENT})
    row = _row(page, name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{len(CONTENT)} B")
    urn = f"{folder_urn}{name}"
    expect(row).to_have_attribute("data-urn", urn)
    with platform.api(admin_token) as client:
        stored = client.get("/api/storage/files/content", params={"urn": urn})
    assert stored.status_code == 200 and stored.content == CONTENT
    assert stored.headers["content-type"].startswith("text/plain")
    modified = _stat(platform, admin_token, urn).json()["modified"]
    _said(admin, row, "file-modified", modified)
    row.get_by_test_id("file-name").click()  # its preview says the same
    panel = page.get_by_role("dialog", name=f"Preview of {name}")
    _said(admin, panel, "preview-modified", modified)
    panel.get_by_test_id("preview-close").click()
    expect(panel).to_have_count(0)

    # -- download: the browser gets the same bytes -----------------------------------------------
    with page.expect_download() as download:
        row.get_by_test_id("file-download").click()
    assert download.value.suggested_filename == name
    assert Path(download.value.path()).read_bytes() == CONTENT

    # -- tags ---------------------------------------------------------------------------------------
    row.get_by_test_id("file-tags").click()
    page.get_by_test_id("file-tags-input").fill("e2e, report, e2e")
    page.get_by_test_id("file-tags-save").click()
    expect(row.get_by_test_id("file-tag")).to_have_text(["e2e", "report"])
    assert _stat(platform, admin_token, urn).json()["tags"] == ["e2e", "report"]
    admin.shot("files")

    # -- rename -------------------------------------------------------------------------------------
    row.get_by_test_id("file-rename").click()
    page.get_by_test_id("file-rename-input").fill(renamed)
    page.get_by_test_id("file-rename-save").click()
    row = _row(page, renamed)
    expect(row).to_have_count(1)
    expect(_row(page, name)).to_have_count(0)
    urn = f"{folder_urn}{renamed}"
    assert _stat(platform, admin_token, urn).json()["tags"] == ["e2e", "report"]  # tags move with it

    # -- search by name -----------------------------------------------------------------------------
    page.get_by_test_id("files-search").fill(f"renamed-{tag}")
    page.get_by_test_id("files-search").press("Enter")
    page.wait_for_url(re.compile(r"/files\?q=renamed"))
    expect(page.get_by_test_id("files-search-count")).to_contain_text("1 found")
    row = _row(page, renamed)
    expect(row.get_by_test_id("file-folder")).to_have_text(folder_urn)
    _said(admin, row, "file-modified", _stat(platform, admin_token, urn).json()["modified"])

    # -- delete (confirmed), then restore from the trash ------------------------------------------
    row.get_by_test_id("file-delete").click()
    page.get_by_test_id("file-delete-confirm").click()
    expect(_row(page, renamed)).to_have_count(0)
    assert platform.until(lambda: _stat(platform, admin_token, urn).status_code == 404)
    page.get_by_test_id("files-trash-open").click()
    page.wait_for_url(re.compile(r"/files\?view=trash"))
    trashed = page.locator(f'[data-testid="trash-row"][data-urn="{urn}"]')
    expect(trashed).to_have_count(1)
    with platform.api(admin_token) as client:
        deleted = next(i for i in client.get("/api/storage/trash").json()["items"] if i["urn"] == urn)["deleted_at"]
    _said(admin, trashed, "trash-deleted", deleted, "deleted ")
    trashed.get_by_test_id("trash-restore").click()
    expect(trashed).to_have_count(0)
    assert _stat(platform, admin_token, urn).status_code == 200

    admin.open("/files?" + urlencode({"urn": folder_urn}))
    expect(_row(page, renamed)).to_have_count(1)
    expect(_row(page, renamed).get_by_test_id("file-tag")).to_have_text(["e2e", "report"])  # and its tags
