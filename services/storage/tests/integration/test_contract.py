"""One contract, run with the same assertions against local disk, S3 (moto) and
every remote kind on a real loopback server: FTP and FTPS (pyftpdlib), SFTP
(asyncssh), SMB (Samba's smbd), WebDAV (WsgiDAV) the Drive v3 subset, and a
module's folder served over NATS by its host (`module`)."""

from __future__ import annotations

import hashlib
import os

import pytest

from webos_common.files.afs import FileMissing

pytestmark = pytest.mark.parametrize(
    "kind", ["local", "s3", "ftp", "ftps", "sftp", "smb", "webdav", "gdrive", "module"])


async def test_upload_stat_list_download(storage_app, kind) -> None:
    data = os.urandom(300_000)
    async with storage_app(kind) as h:
        created = (await h.put("fs://main/docs/a.bin", data)).json()
        assert created["sha256"] == hashlib.sha256(data).hexdigest()
        assert created["size"] == len(data) and created["owner"] == "alice"
        stat = (await h.client.get("/files/stat", params={"urn": "fs://main/docs/a.bin"},
                                   headers=h.as_user("alice"))).json()
        assert stat["urn"] == "fs://main/docs/a.bin" and stat["size"] == len(data) and not stat["is_dir"]
        listing = (await h.client.get("/files", params={"urn": "fs://main/docs/"}, headers=h.as_user("alice"))).json()
        assert [i["name"] for i in listing["items"]] == ["a.bin"]
        assert listing["items"][0]["sha256"] == created["sha256"]
        got = await h.get("fs://main/docs/a.bin")
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-length"] == str(len(data))
        await h.assert_index_matches("main")


async def test_content_type_kept(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        response = await h.client.put("/files/content", params={"urn": "fs://main/r.json"}, content=b"{}",
                                      headers={**h.as_user("alice"), "content-type": "application/json"})
        assert response.status_code == 201
        got = await h.get("fs://main/r.json")
        assert got.headers["content-type"] == "application/json"


async def test_list_is_paginated_folders_first(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        for i in range(5):
            await h.put(f"fs://main/p/f{i}.txt", b"x" * i)
        mk = await h.client.post("/files/mkdir", json={"urn": "fs://main/p/zsub"}, headers=h.as_user("alice"))
        assert mk.status_code == 201 and mk.json()["is_dir"]
        headers = h.as_user("alice")
        first = (await h.client.get("/files", params={"urn": "fs://main/p", "limit": 2}, headers=headers)).json()
        assert {k: first[k] for k in ("total", "skip", "limit", "has_more")} == \
            {"total": 6, "skip": 0, "limit": 2, "has_more": True}
        assert [i["name"] for i in first["items"]] == ["zsub", "f0.txt"]
        last = (await h.client.get("/files", params={"urn": "fs://main/p", "skip": 4, "limit": 2},
                                   headers=headers)).json()
        assert [i["name"] for i in last["items"]] == ["f3.txt", "f4.txt"] and last["has_more"] is False
        empty = (await h.client.get("/files", params={"urn": "fs://main/p/zsub"}, headers=headers)).json()
        assert empty["items"] == [] and empty["total"] == 0


async def test_range_returns_exact_bytes(storage_app, kind) -> None:
    data = bytes(range(256)) * 40
    async with storage_app(kind) as h:
        await h.put("fs://main/r.bin", data)
        for header, expected, content_range in [
            ("bytes=10-19", data[10:20], f"bytes 10-19/{len(data)}"),
            ("bytes=-5", data[-5:], f"bytes {len(data) - 5}-{len(data) - 1}/{len(data)}"),
            ("bytes=10000-", data[10000:], f"bytes 10000-{len(data) - 1}/{len(data)}"),
            ("bytes=0-999999", data, f"bytes 0-{len(data) - 1}/{len(data)}"),
        ]:
            got = await h.client.get("/files/content", params={"urn": "fs://main/r.bin"},
                                     headers={**h.as_user("alice"), "range": header})
            assert got.status_code == 206, header
            assert got.content == expected, header
            assert got.headers["content-range"] == content_range
        head = await h.client.head("/files/content", params={"urn": "fs://main/r.bin"},
                                   headers={**h.as_user("alice"), "range": "bytes=10-19"})
        assert head.status_code == 206 and head.content == b"" and head.headers["content-length"] == "10"
        bad = await h.client.get("/files/content", params={"urn": "fs://main/r.bin"},
                                 headers={**h.as_user("alice"), "range": f"bytes={len(data)}-"})
        assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(data)}"


async def test_etag_if_none_match(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        await h.put("fs://main/e.txt", b"hello")
        first = await h.get("fs://main/e.txt")
        etag = first.headers["etag"]
        again = await h.client.get("/files/content", params={"urn": "fs://main/e.txt"},
                                   headers={**h.as_user("alice"), "if-none-match": etag})
        assert again.status_code == 304 and again.content == b""
        await h.put("fs://main/e.txt", b"hello, changed")
        changed = await h.client.get("/files/content", params={"urn": "fs://main/e.txt"},
                                     headers={**h.as_user("alice"), "if-none-match": etag})
        assert changed.status_code == 200 and changed.content == b"hello, changed"


async def test_the_owner_restores_what_someone_else_deleted(storage_app, kind) -> None:
    """A deleted file went to the deleter's trash only; its owner could not get it back."""
    async with storage_app(kind) as h:
        await h.put("fs://main/shared/plan.txt", b"plan", user="alice")
        gone = await h.client.delete("/files", params={"urn": "fs://main/shared/plan.txt"}, headers=h.as_user("bob"))
        assert gone.status_code == 200
        trash_id = gone.json()["trash_id"]
        assert (await h.client.get("/trash", headers=h.as_user("carol"))).json()["items"] == []
        refused = await h.client.post(f"/trash/{trash_id}/restore", headers=h.as_user("carol"))
        assert refused.status_code == 404  # neither owner nor deleter
        mine = (await h.client.get("/trash", headers=h.as_user("alice"))).json()["items"]
        assert [(i["urn"], i["deleted_by"]) for i in mine] == [("fs://main/shared/plan.txt", "bob")]
        restored = await h.client.post(f"/trash/{trash_id}/restore", headers=h.as_user("alice"))
        assert restored.status_code == 200, restored.text
        assert (await h.get("fs://main/shared/plan.txt", user="alice")).content == b"plan"
        stat = await h.client.get("/files/stat", params={"urn": "fs://main/shared/plan.txt"},
                                  headers=h.as_user("alice"))
        assert stat.json()["owner"] == "alice"


async def test_delete_to_trash_and_restore(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        await h.put("fs://main/t/keep.txt", b"keep")
        await h.put("fs://main/t/gone.txt", b"gone")
        headers = h.as_user("alice")
        deleted = await h.client.delete("/files", params={"urn": "fs://main/t/gone.txt"}, headers=headers)
        assert deleted.status_code == 200
        assert (await h.get("fs://main/t/gone.txt")).status_code == 404
        await h.assert_index_matches("main")
        trash = (await h.client.get("/trash", headers=headers)).json()["items"]
        assert [i["urn"] for i in trash] == ["fs://main/t/gone.txt"]
        restored = await h.client.post(f"/trash/{trash[0]['id']}/restore", headers=headers)
        assert restored.status_code == 200 and restored.json()["sha256"] == hashlib.sha256(b"gone").hexdigest()
        assert (await h.get("fs://main/t/gone.txt")).content == b"gone"
        assert (await h.client.get("/trash", headers=headers)).json()["items"] == []
        await h.assert_index_matches("main")
        again = (await h.client.delete("/files", params={"urn": "fs://main/t/gone.txt"}, headers=headers)).json()
        assert (await h.client.delete(f"/trash/{again['trash_id']}", headers=h.as_user("bob"))).status_code == 404
        assert (await h.client.delete(f"/trash/{again['trash_id']}", headers=headers)).status_code == 204
        assert (await h.client.get("/trash", headers=headers)).json()["items"] == []
        assert set(await h.snapshot("main")) == {"t/keep.txt"}
        try:
            left = await h.container.sources["main"].list_dir(".webos-trash")
        except FileMissing:
            left = []
        assert left == []


async def test_delete_folder_and_restore(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        await h.put("fs://main/d/x/1.txt", b"1")
        await h.put("fs://main/d/x/2.txt", b"2")
        headers = h.as_user("alice")
        deleted = (await h.client.delete("/files", params={"urn": "fs://main/d/x"}, headers=headers)).json()
        missing = await h.client.get("/files", params={"urn": "fs://main/d/x"}, headers=headers)
        assert missing.status_code == 404
        await h.assert_index_matches("main")
        await h.client.post(f"/trash/{deleted['trash_id']}/restore", headers=headers)
        assert (await h.get("fs://main/d/x/2.txt")).content == b"2"
        await h.assert_index_matches("main")


async def test_move_and_copy_within_source(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        await h.put("fs://main/m/a.txt", b"alpha")
        headers = h.as_user("alice")
        moved = await h.client.post("/files/move", json={"src": "fs://main/m/a.txt", "dst": "fs://main/n/b.txt"},
                                    headers=headers)
        assert moved.status_code == 200 and moved.json()["job"]["state"] == "succeeded"
        assert (await h.get("fs://main/m/a.txt")).status_code == 404
        assert (await h.get("fs://main/n/b.txt")).content == b"alpha"
        await h.assert_index_matches("main")
        copied = await h.client.post("/files/copy", json={"src": "fs://main/n", "dst": "fs://main/c"},
                                     headers=headers)
        assert copied.status_code == 201
        assert (await h.get("fs://main/c/b.txt")).content == b"alpha"
        assert (await h.get("fs://main/n/b.txt")).content == b"alpha"
        await h.assert_index_matches("main")
        clash = await h.client.post("/files/move", json={"src": "fs://main/c", "dst": "fs://main/n"},
                                    headers=headers)
        assert clash.status_code == 409
        into_itself = await h.client.post("/files/move", json={"src": "fs://main/c", "dst": "fs://main/c/deeper"},
                                          headers=headers)
        assert into_itself.status_code == 400


async def test_multipart_upload(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        files = [("file", ("one.txt", b"first", "text/plain")), ("file", ("two.bin", b"\x00" * 2_000_000, None))]
        response = await h.client.post("/files/upload", params={"urn": "fs://main/up/"}, files=files,
                                       headers=h.as_user("alice"))
        assert response.status_code == 201, response.text
        assert [i["urn"] for i in response.json()["items"]] == ["fs://main/up/one.txt", "fs://main/up/two.bin"]
        assert (await h.get("fs://main/up/two.bin")).content == b"\x00" * 2_000_000
        for evil in ("../evil.txt", "a/b.txt", "..", "x\\y", ""):
            bad = await h.client.post("/files/upload", params={"urn": "fs://main/up/"},
                                      files=[("file", (evil, b"x", None))], headers=h.as_user("alice"))
            assert bad.status_code in (400, 422), evil
        odd = await h.client.post("/files/upload", params={"urn": "fs://main/up/"},
                                  files=[("file", ("100%41 #?.txt", b"odd", None))], headers=h.as_user("alice"))
        assert odd.status_code == 201 and odd.json()["items"][0]["name"] == "100%41 #?.txt"
        await h.assert_index_matches("main")


async def test_file_in_the_way_is_a_conflict(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        await h.put("fs://main/f.txt", b"f")
        response = await h.client.put("/files/content", params={"urn": "fs://main/f.txt/inner.txt"}, content=b"x",
                                      headers=h.as_user("alice"))
        assert response.status_code == 409
        await h.assert_index_matches("main")


async def test_tags_and_search(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        await h.put("fs://main/s/Quarterly-Report.pdf", b"q", user="alice")
        await h.put("fs://main/s/notes.txt", b"n", user="bob")
        headers = h.as_user("alice")
        tagged = await h.client.put("/files/tags", json={"urn": "fs://main/s/notes.txt", "tags": ["finance", "q3"]},
                                    headers=headers)
        assert tagged.status_code == 200 and tagged.json()["tags"] == ["finance", "q3"]
        by_name = (await h.client.get("/search", params={"name": "report"}, headers=headers)).json()
        assert [i["urn"] for i in by_name["items"]] == ["fs://main/s/Quarterly-Report.pdf"]
        by_tag = (await h.client.get("/search", params={"tag": "finance"}, headers=headers)).json()
        assert [i["urn"] for i in by_tag["items"]] == ["fs://main/s/notes.txt"]
        by_owner = (await h.client.get("/search", params={"owner": "bob"}, headers=headers)).json()
        assert [i["urn"] for i in by_owner["items"]] == ["fs://main/s/notes.txt"]


async def test_folders_are_indexed_tagged_searched_moved_and_restored(storage_app, kind) -> None:
    async with storage_app(kind) as h:
        alice = h.as_user("alice")
        made = await h.client.post("/files/mkdir", json={"urn": "fs://main/Projects/Apollo"}, headers=alice)
        assert made.status_code == 201 and made.json()["owner"] == "alice" and made.json()["is_dir"]
        await h.put("fs://main/Projects/Apollo/plan.txt", b"go")
        await h.put("fs://main/Projects/Gemini/notes.txt", b"n")  # Gemini: made on the way, not indexed
        tagged = await h.client.put("/files/tags", json={"urn": "fs://main/Projects/Apollo", "tags": ["moon"]},
                                    headers=alice)
        assert tagged.status_code == 200 and tagged.json()["tags"] == ["moon"]
        late = await h.client.put("/files/tags", json={"urn": "fs://main/Projects/Gemini", "tags": ["orbit"]},
                                  headers=alice)
        assert late.status_code == 200 and late.json()["tags"] == ["orbit"]  # indexed from its first tag
        found = (await h.client.get("/search", params={"name": "apollo"}, headers=alice)).json()
        assert [(i["urn"], i["is_dir"], i["tags"]) for i in found["items"]] == [("fs://main/Projects/Apollo/", True,
                                                                                   ["moon"])]
        moved = await h.client.post("/files/move", json={"src": "fs://main/Projects/Apollo",
                                                         "dst": "fs://main/Archive/Apollo"}, headers=alice)
        assert moved.status_code == 200, moved.text
        stat = (await h.client.get("/files/stat", params={"urn": "fs://main/Archive/Apollo"}, headers=alice)).json()
        assert stat["tags"] == ["moon"] and stat["owner"] == "alice"
        copied = await h.client.post("/files/copy", json={"src": "fs://main/Archive/Apollo",
                                                          "dst": "fs://other/Apollo"}, headers=h.as_user("admin"))
        assert copied.status_code == 201, copied.text
        copy = (await h.client.get("/files/stat", params={"urn": "fs://other/Apollo"}, headers=alice)).json()
        assert copy["tags"] == ["moon"] and copy["owner"] == "admin"  # a copy belongs to its maker
        gone = (await h.client.delete("/files", params={"urn": "fs://main/Archive/Apollo"}, headers=alice)).json()
        assert (await h.client.get("/search", params={"tag": "moon"}, headers=alice)).json()["total"] == 1
        assert (await h.client.post(f"/trash/{gone['trash_id']}/restore", headers=alice)).status_code == 200
        back = (await h.client.get("/search", params={"tag": "moon"}, headers=alice)).json()
        assert sorted(i["urn"] for i in back["items"]) == ["fs://main/Archive/Apollo/", "fs://other/Apollo/"]
        await h.assert_index_matches("main")
        await h.assert_index_matches("other")
