"""The Files page's pure helpers: sizes in words, URNs (folders,
parents, children, the home alias, the breadcrumb), ordering, tags, names,
sources, links, how a file is previewed — and the raw upload's token refresh and the
preview's ranged read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from webos_common.clients.session import ApiError, SessionClient, SessionExpired
from webos_shell import file_picker, runtime
from webos_shell.pages.files import actions, places, preview
from webos_shell.settings import ShellSettings

HOME = "fs://local/home/u1/"


def test_human_size() -> None:
    assert places.human_size(None) == ""
    assert places.human_size(0) == "0 B"
    assert places.human_size(1023) == "1023 B"
    assert places.human_size(1536) == "1.5 KiB"
    assert places.human_size(5 * 1024 * 1024) == "5.0 MiB"
    assert places.human_size(3 * 1024**5) == "3072.0 TiB"  # no unit past the last


def test_home_alias() -> None:
    assert places.alias_home("fs://home/", HOME) == HOME
    assert places.alias_home("fs://home", HOME) == HOME
    assert places.alias_home("fs://home/docs/", HOME) == HOME + "docs/"
    assert places.alias_home("fs://home/a.txt", HOME) == HOME + "a.txt"
    assert places.alias_home("fs://home/docs/", HOME, ["local", "home"]) == "fs://home/docs/"  # a real source
    assert places.alias_home("fs://home/docs/", None) == "fs://home/docs/"
    assert places.alias_home("fs://s3/x/", HOME) == "fs://s3/x/"


def test_breadcrumbs() -> None:
    assert places.breadcrumbs(HOME, HOME) == [("Home", HOME)]
    assert places.breadcrumbs(HOME + "a/b/", HOME) == [
        ("Home", HOME), ("a", HOME + "a/"), ("b", HOME + "a/b/")]
    assert places.breadcrumbs("fs://s3/reports/2023/", HOME) == [
        ("s3", "fs://s3/"), ("reports", "fs://s3/reports/"), ("2023", "fs://s3/reports/2023/")]
    assert places.breadcrumbs("fs://local/home/", HOME) == [("local", "fs://local/"), ("home", "fs://local/home/")]
    assert places.breadcrumbs("fs://local/home/u10/", HOME)[-1] == ("u10", "fs://local/home/u10/")  # not u1's
    assert places.breadcrumbs("fs://local/") == [("local", "fs://local/")]


def test_folders_first_then_by_name() -> None:
    items = [{"name": "b.txt", "is_dir": False}, {"name": "Zed", "is_dir": True},
             {"name": "a.txt", "is_dir": False}, {"name": "alpha", "is_dir": True}]
    assert [i["name"] for i in file_picker.sorted_items(items)] == ["alpha", "Zed", "a.txt", "b.txt"]


def test_tags_and_names() -> None:
    assert places.parse_tags(" a, b,,a ,c ") == ["a", "b", "c"]
    assert places.parse_tags("") == []
    assert places.parse_tags(None) == []
    assert places.name_problem("notes.txt") is None
    assert places.name_problem("  ") == "A name is required"
    assert places.name_problem("a/b")
    assert places.name_problem("..")
    assert places.name_problem("é" * 128)  # 256 bytes


def test_urls_sources_and_links() -> None:
    assert places.files_url() == "/files"
    assert places.files_url("fs://local/a b/") == "/files?urn=fs%3A%2F%2Flocal%2Fa+b%2F"
    assert places.files_url(q="report") == "/files?q=report"
    assert places.files_url(view="trash") == "/files?view=trash"
    sources = {"home": "fs://local/home/u1/", "sources": [{"id": "local"}, {"id": "s3"}],
               "mounts": [{"name": "reports", "path": "/mnt/reports"}]}
    options = places.source_options(sources)
    assert options == {HOME: "Home", "fs://local/": "local", "fs://s3/": "s3", "fs://reports/": "reports (mount)"}
    assert places.chosen_option(HOME + "a/", options) == HOME
    assert places.chosen_option("fs://local/other/", options) == "fs://local/"
    assert places.chosen_option("fs://nowhere/", options) is None
    assert places.share_url({"path": "/shares/tok.en"}) == "/api/storage/shares/tok.en?download=1"
    assert places.share_url({"path": "/shares/tok.en"}, download=False) == "/api/storage/shares/tok.en"


def test_a_location_reads_like_the_breadcrumb() -> None:
    assert places.location(HOME + "Reports/q3.pdf", HOME) == "Home / Reports"
    assert places.location(HOME + "a.txt", HOME) == "Home"
    assert places.location("fs://s3/shared/team/a.txt", HOME) == "s3 / shared / team"


@pytest.mark.parametrize(("name", "ctype", "kind"), [
    ("a.png", "image/png", "image"), ("a.JPG", "image/jpeg", "image"), ("a.svg", "image/svg+xml", "image"),
    ("a.webp", None, "image"), ("photo", "image/gif", "image"), ("a.tiff", "image/tiff", "other"),
    ("a.pdf", "application/pdf", "pdf"), ("a.pdf", "application/octet-stream", "pdf"),
    ("notes.md", "text/markdown; charset=utf-8", "markdown"), ("notes.MD", "text/plain", "markdown"),
    ("a.txt", "text/plain", "text"), ("page.html", "text/html", "text"), ("a.json", None, "text"),
    ("server.log", "application/octet-stream", "text"), ("app.YML", None, "text"),
    ("a.bin", "application/octet-stream", "other"), ("archive", None, "other"), ("a.zip", "application/zip", "other"),
])
def test_preview_kind(name: str, ctype: str | None, kind: str) -> None:
    assert places.preview_kind(name, ctype) == kind


def test_a_character_cut_by_the_limit_is_dropped() -> None:
    data = "héllo".encode()
    assert preview.decode_start(data, whole=True) == "héllo"
    assert preview.decode_start(data[:2], whole=False) == "h"  # half of "é": dropped
    assert preview.decode_start(data[:2], whole=True) == "h\ufffd"  # the file really ends there


@pytest.fixture
def gateway() -> Any:
    """A gateway whose storage answers 401 to the first token and 201 to the refreshed one."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/auth/refresh":
            return httpx.Response(200, json={"access_token": "new", "refresh_token": "r2"})
        if request.headers.get("authorization") != "Bearer new":
            return httpx.Response(401, json={"error": {"message": "expired"}})
        if request.url.params["urn"].endswith("bad"):
            return httpx.Response(400, json={"error": {"message": "Path rejected"}})
        return httpx.Response(201, json={"urn": request.url.params["urn"], "size": len(request.content)})

    gw = SessionClient("http://gateway", transport=httpx.MockTransport(answer))
    before = runtime._current
    runtime.install(runtime.Runtime(settings=ShellSettings(), gateway=gw))
    yield seen
    runtime._current = before


async def test_raw_upload_refreshes_once_and_resends(gateway: list[httpx.Request]) -> None:
    store = {"access_token": "old", "refresh_token": "r1"}

    async def chunks() -> Any:
        yield b"hello "
        yield b"world"

    answer = await actions.put_file(store, "fs://local/home/u1/a.txt", chunks, "text/plain")
    assert answer == {"urn": "fs://local/home/u1/a.txt", "size": 11}
    assert store == {"access_token": "new", "refresh_token": "r2"}
    put = gateway[-1]
    assert (put.method, put.url.path, put.headers["content-type"]) == ("PUT", "/api/storage/files/content",
                                                                       "text/plain")
    with pytest.raises(ApiError) as failed:
        await actions.put_file(store, "fs://local/bad", b"x", None)
    assert (failed.value.status, failed.value.message) == (400, "Path rejected")
    assert gateway[-1].headers["content-type"] == "application/octet-stream"


async def test_raw_upload_without_a_refresh_token_is_a_session_expired(gateway: list[httpx.Request]) -> None:
    with pytest.raises(SessionExpired):
        await actions.put_file({"access_token": "old"}, "fs://local/a.txt", b"x", "text/plain")


async def test_a_text_preview_reads_one_range_as_the_person() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params["urn"].endswith("gone.txt"):
            return httpx.Response(404, json={"error": {"message": "No such file"}})
        return httpx.Response(206, content=b"x" * preview.TEXT_LIMIT)

    before = runtime._current
    gw = SessionClient("http://gateway", transport=httpx.MockTransport(answer))
    runtime.install(runtime.Runtime(settings=ShellSettings(), gateway=gw))
    try:
        store = {"access_token": "t"}
        text, failure = await preview.read_start(store, {"urn": "fs://local/big.txt", "size": 10**9})
        assert (len(text or ""), failure) == (preview.TEXT_LIMIT, None)
        assert seen[-1].headers["range"] == f"bytes=0-{preview.TEXT_LIMIT - 1}"
        assert seen[-1].headers["authorization"] == "Bearer t"
        assert await preview.read_start(store, {"urn": "fs://local/gone.txt", "size": 3}) == (
            None, "No such file")
        calls = len(seen)
        assert await preview.read_start(store, {"urn": "fs://local/empty.txt", "size": 0}) == ("", None)
        assert len(seen) == calls  # an empty file: nothing to ask
    finally:
        runtime._current = before
