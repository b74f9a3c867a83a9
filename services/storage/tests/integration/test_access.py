"""Bad paths, unknown sources, private homes, mount permissions."""

from __future__ import annotations

import pytest

CORPUS = [
    "fs://main/../etc/passwd",
    "fs://main/a/../../x",
    "fs://main//etc/passwd",
    "fs://main/%2e%2e/x",
    "fs://main/%2E%2E%2Fx",
    "fs://main/%252e%252e/x",
    "fs://main/a%2f..%2f..%2fx",
    "fs://main/a\\..\\x",
    "fs://main/..\\x",
    "fs://main/a\x00b",
    "fs://main/a%00b",
    "fs://main/" + "n" * 256,
    "fs://main/C:/windows/x",
    "fs://main/./x",
    "fs://main/a//b",
    "fs://main/.webos-trash/x",
    "fs://main/.webos-tmp/x",
    "fs://../x",
    "file:///etc/passwd",
    "/etc/passwd",
]


@pytest.mark.parametrize("kind", ["local", "s3"])
async def test_traversal_corpus_is_rejected_and_touches_nothing(storage_app, kind, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    async with storage_app(kind) as h:
        await h.put("fs://main/ok.txt", b"ok")
        before = await h.snapshot("main")
        headers = h.as_user("alice", roles=("admin",))
        for urn in CORPUS:
            calls = [
                h.client.put("/files/content", params={"urn": urn}, content=b"evil", headers=headers),
                h.client.get("/files/content", params={"urn": urn}, headers=headers),
                h.client.get("/files", params={"urn": urn}, headers=headers),
                h.client.get("/files/stat", params={"urn": urn}, headers=headers),
                h.client.delete("/files", params={"urn": urn}, headers=headers),
                h.client.post("/files/mkdir", json={"urn": urn}, headers=headers),
                h.client.post("/files/move", json={"src": "fs://main/ok.txt", "dst": urn}, headers=headers),
                h.client.post("/files/copy", json={"src": urn, "dst": "fs://main/copy.txt"}, headers=headers),
            ]
            for call in calls:
                response = await call
                # a NUL in a query parameter is refused before storage (422), the rest by storage (400)
                assert response.status_code in (400, 422), (urn, response.request.method, response.text)
                details = response.json()["error"]["details"]
                fields = {d["field"] for d in details} if isinstance(details, list) else {details["field"]}
                assert fields & {"path", "urn", "name"}, details
        assert await h.snapshot("main") == before
        await h.assert_index_matches("main")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_symlink_out_of_the_root_is_rejected(storage_app, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    async with storage_app("local") as h:
        (tmp_path / "main" / "link").symlink_to(outside)
        headers = h.as_user("alice", roles=("admin",))
        for method, url, kwargs in [
            ("GET", "/files/content", {"params": {"urn": "fs://main/link/secret.txt"}}),
            ("GET", "/files", {"params": {"urn": "fs://main/link"}}),
            ("PUT", "/files/content", {"params": {"urn": "fs://main/link/new.txt"}, "content": b"x"}),
            ("DELETE", "/files", {"params": {"urn": "fs://main/link/secret.txt"}}),
        ]:
            response = await h.client.request(method, url, headers=headers, **kwargs)
            assert response.status_code == 400, (method, url, response.text)
        listing = (await h.client.get("/files", params={"urn": "fs://main/"}, headers=headers)).json()
        assert "link" not in [i["name"] for i in listing["items"]]
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"


async def test_unknown_source_or_mount_is_404_naming_it(storage_app) -> None:
    async with storage_app() as h:
        headers = h.as_user("alice")
        for urn, name in [("fs://nosuch/x", "nosuch"), ("/mnt/gone/x", "gone"), ("fs://gone/", "gone")]:
            response = await h.client.get("/files", params={"urn": urn}, headers=headers)
            assert response.status_code == 404
            assert name in response.json()["error"]["message"]
            assert response.json()["error"]["details"]["source"] == name


async def test_sources_and_mounts_are_listed_with_capabilities(storage_app) -> None:
    async with storage_app("local") as h:
        body = (await h.client.get("/sources", headers=h.as_user("alice"))).json()
        kinds = {s["id"]: s["kind"] for s in body["sources"]}
        assert kinds == {"main": "local", "other": "s3", "local": "local"}
        assert all(s["read"] and s["write"] and s["range"] for s in body["sources"])
        assert body["mounts"] == [{"path": "/mnt/reports", "name": "reports", "target": "fs://main/reports",
                                   "read_permission": "reports.read", "write_permission": "reports.write"}]
        assert body["home"] == "fs://local/home/alice/"


async def test_another_users_home_is_invisible(storage_app) -> None:
    async with storage_app() as h:
        await h.put("fs://local/home/alice/private.txt", b"mine", user="alice")
        bob = h.as_user("bob")
        checks = [
            await h.client.get("/files", params={"urn": "fs://local/home/alice/"}, headers=bob),
            await h.client.get("/files/content", params={"urn": "fs://local/home/alice/private.txt"}, headers=bob),
            await h.client.get("/files/stat", params={"urn": "fs://local/home/alice/private.txt"}, headers=bob),
            await h.client.delete("/files", params={"urn": "fs://local/home/alice/private.txt"}, headers=bob),
            await h.client.delete("/files", params={"urn": "fs://local/home/alice"}, headers=bob),
            await h.client.put("/files/content", params={"urn": "fs://local/home/alice/x.txt"}, content=b"x",
                               headers=bob),
            await h.client.post("/files/move", json={"src": "fs://local/home/alice/private.txt",
                                                     "dst": "fs://local/home/bob/stolen.txt"}, headers=bob),
            await h.client.post("/shares", json={"urn": "fs://local/home/alice/private.txt"}, headers=bob),
        ]
        assert [r.status_code for r in checks] == [404] * len(checks)
        await h.put("fs://local/home/bob/own.txt", b"bob's", user="bob")
        copied = await h.client.post("/files/copy", json={"src": "fs://local/home", "dst": "fs://local/loot"},
                                     headers=bob)
        assert copied.status_code == 201
        looted = (await h.client.get("/files", params={"urn": "fs://local/loot/"}, headers=bob)).json()
        assert [i["name"] for i in looted["items"]] == ["bob"]
        homes = (await h.client.get("/files", params={"urn": "fs://local/home/"}, headers=bob)).json()
        assert [i["name"] for i in homes["items"]] == ["bob"]
        found = (await h.client.get("/search", params={"owner": "alice"}, headers=bob)).json()
        assert found["items"] == []
        assert (await h.get("fs://local/home/alice/private.txt", user="alice")).content == b"mine"
        admin = await h.get("fs://local/home/alice/private.txt", user="root", roles=("admin",))
        assert admin.content == b"mine"
        await h.assert_index_matches("local")


async def test_mount_permissions_apply_however_addressed(storage_app) -> None:
    async with storage_app() as h:
        nobody, reader = h.as_user("carol"), h.as_user("dave", permissions=("reports.read",))
        writer = h.as_user("erin", permissions=("reports.*",))
        put = await h.client.put("/files/content", params={"urn": "/mnt/reports/q3.txt"}, content=b"q3",
                                 headers=writer)
        assert put.status_code == 201 and put.json()["urn"] == "fs://main/reports/q3.txt"
        for urn in ("/mnt/reports/q3.txt", "fs://reports/q3.txt", "fs://main/reports/q3.txt"):
            assert (await h.client.get("/files/content", params={"urn": urn}, headers=nobody)).status_code == 403
            got = await h.client.get("/files/content", params={"urn": urn}, headers=reader)
            assert got.content == b"q3"
        denied = await h.client.put("/files/content", params={"urn": "fs://reports/x.txt"}, content=b"x",
                                    headers=reader)
        assert denied.status_code == 403
        listing = (await h.client.get("/files", params={"urn": "fs://reports/"}, headers=reader)).json()
        assert [i["urn"] for i in listing["items"]] == ["fs://main/reports/q3.txt"]
        outside = await h.client.put("/files/content", params={"urn": "fs://main/free.txt"}, content=b"x",
                                     headers=nobody)
        assert outside.status_code == 201


async def test_anonymous_is_401(storage_app) -> None:
    async with storage_app() as h:
        response = await h.client.get("/files", params={"urn": "fs://main/"})
        assert response.status_code == 401


async def test_an_api_key_does_no_more_than_its_scopes(storage_app) -> None:
    """A key (no roles, only its scopes) scoped to another area touches no file; `storage.read` reads only."""
    async with storage_app() as h:
        await h.put("fs://local/home/alice/a.txt", b"a")
        tasks_only = h.as_user("alice", roles=(), permissions=("tasks.read",))
        reader = h.as_user("alice", roles=(), permissions=("storage.read",))
        urn = {"urn": "fs://local/home/alice/a.txt"}
        for headers in (tasks_only, reader):
            deleted = await h.client.delete("/files", params=urn, headers=headers)
            assert deleted.status_code == 403
            assert deleted.json()["error"]["details"]["permission"] == "storage.write"
            put = await h.client.put("/files/content", params=urn, content=b"evil", headers=headers)
            assert put.status_code == 403
        refused = await h.client.get("/files/content", params=urn, headers=tasks_only)
        assert refused.status_code == 403 and refused.json()["error"]["details"]["permission"] == "storage.read"
        assert (await h.client.get("/files/content", params=urn, headers=reader)).content == b"a"
