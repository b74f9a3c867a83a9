"""Remote sources when things go wrong, each against its real loopback server:
unreachable or refusing its credentials (shown in discovery, 503 naming the
source, the rest of the AFS serving), going down mid-upload and mid-transfer
(503, index consistent, nothing half-written), coming back (used again
without a restart); copies from local disk keep bytes and sha256 with
progress; a read-only source refuses changes with a 405."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from webos_common.infra.process import free_port
from webos_storage.settings import SourceConfig
from webos_storage.testing.loopback import Loopback

REMOTE = ["ftp", "ftps", "sftp", "smb", "webdav", "gdrive"]


def local(source_id: str, tmp_path: Path) -> SourceConfig:
    return SourceConfig(id=source_id, kind="local", root=str(tmp_path / source_id))


@pytest.fixture
def own_server(tmp_path: Path):
    """A server of the test's own, which the test may stop and start again."""
    started: list[Loopback] = []

    def make(kind: str) -> Loopback:
        server = Loopback(kind, tmp_path / f"{kind}-server").start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def unreachable(kind: str, tmp_path: Path) -> SourceConfig:
    """A source of `kind` pointing at a loopback port where nothing listens."""
    port = free_port()
    fields: dict = {"id": "main", "kind": kind, "root": "x", "username": "u", "password": "p", "retry_seconds": 0}
    if kind == "webdav":
        fields["endpoint_url"] = f"http://127.0.0.1:{port}/"
    elif kind == "gdrive":
        fields.update(endpoint_url=f"http://127.0.0.1:{port}", token_uri=f"http://127.0.0.1:{port}/token",
                      client_id="c", client_secret="s", refresh_token="r")
    else:
        fields.update(host="127.0.0.1", port=port, share="share")
    return SourceConfig.model_validate(fields)


@pytest.mark.parametrize("kind", REMOTE)
async def test_unreachable_source_is_unavailable_with_reason_and_503(storage_app, tmp_path, kind) -> None:
    sources = [unreachable(kind, tmp_path), local("local", tmp_path)]
    async with storage_app(storage_sources=sources, storage_mounts=[]) as h:
        listed = {s["id"]: s for s in (await h.client.get("/sources", headers=h.as_user("alice"))).json()["sources"]}
        assert listed["main"]["available"] is False and listed["main"]["kind"] == kind
        assert listed["main"]["reason"] and listed["local"]["available"] is True
        for call in (h.client.get("/files", params={"urn": "fs://main/"}, headers=h.as_user("alice")),
                     h.client.put("/files/content", params={"urn": "fs://main/a.txt"}, content=b"x",
                                  headers=h.as_user("alice"))):
            answer = await call
            assert answer.status_code == 503, answer.text
            error = answer.json()["error"]
            assert error["code"] == "source_unavailable" and error["details"]["source"] == "main"
            assert "'main'" in error["message"]
        assert (await h.client.get("/readyz")).status_code == 200  # the home source serves
        await h.put("fs://local/still.txt", b"the rest works")
        assert (await h.get("fs://local/still.txt")).content == b"the rest works"


@pytest.mark.parametrize("kind", REMOTE)
async def test_refused_credentials_are_unavailable(storage_app, tmp_path, own_server, kind) -> None:
    server = own_server(kind)
    config = server.source("main", "t")
    wrong = SourceConfig.model_validate({**config.model_dump(), "password": "wrong", "client_secret": "wrong"})
    async with storage_app(storage_sources=[wrong, local("local", tmp_path)], storage_mounts=[]) as h:
        listed = {s["id"]: s for s in (await h.client.get("/sources", headers=h.as_user("alice"))).json()["sources"]}
        assert listed["main"]["available"] is False and listed["main"]["reason"]
        answer = await h.client.get("/files/stat", params={"urn": "fs://main/x"}, headers=h.as_user("alice"))
        assert answer.status_code == 503 and answer.json()["error"]["details"]["source"] == "main"


@pytest.mark.parametrize("kind", REMOTE)
async def test_source_down_mid_upload_and_mid_transfer_then_back(storage_app, tmp_path, own_server, kind) -> None:
    server = own_server(kind)
    config = server.source("main", "t", retry_seconds=0, timeout=5)
    async with storage_app(storage_sources=[config, local("other", tmp_path), local("local", tmp_path)],
                           storage_mounts=[]) as h:
        await h.put("fs://main/keep/a.txt", b"a" * 1000)
        await h.put("fs://main/keep/b.bin", os.urandom(200_000))
        before = await h.snapshot("main")

        async def body() -> AsyncIterator[bytes]:
            yield b"x" * 100_000
            server.stop()  # the source goes down while the bytes are on their way
            for _ in range(20):
                yield b"y" * 100_000

        cut = await h.client.put("/files/content", params={"urn": "fs://main/keep/cut.bin"}, content=body(),
                                 headers=h.as_user("alice"))
        assert cut.status_code == 503, cut.text
        assert cut.json()["error"]["details"]["source"] == "main"
        listing = await h.client.get("/files", params={"urn": "fs://main/keep"}, headers=h.as_user("alice"))
        assert listing.status_code == 503
        moved = await h.client.post("/files/move", json={"src": "fs://main/keep", "dst": "fs://other/keep"},
                                    headers=h.as_user("alice"))
        assert moved.status_code == 503
        listed = {s["id"]: s for s in (await h.client.get("/sources", headers=h.as_user("alice"))).json()["sources"]}
        assert listed["main"]["available"] is False
        entries = await h.container.service.index.all_in("main", "")
        assert sorted(e.path for e in entries if not e.is_dir) == ["keep/a.txt", "keep/b.bin"]
        assert await h.snapshot("other") == {} and await h.container.service.index.all_in("other", "") == []

        server.start()  # back: used again without a restart, nothing half-written left
        listing = await h.client.get("/files", params={"urn": "fs://main/keep"}, headers=h.as_user("alice"))
        assert listing.status_code == 200, listing.text
        assert await h.snapshot("main") == before
        await h.assert_index_matches("main")


@pytest.mark.parametrize("kind", REMOTE)
async def test_copy_from_local_keeps_sha256_with_progress(storage_app, kind) -> None:
    data = os.urandom(2 * 1024 * 1024 + 7)
    digest = hashlib.sha256(data).hexdigest()
    async with storage_app(kind, storage_background_bytes=1024 * 1024) as h:
        await h.put("fs://other/src/data.bin", data)
        started = await h.client.post("/files/copy", json={"src": "fs://other/src", "dst": "fs://main/copied"},
                                      headers=h.as_user("alice"))
        assert started.status_code == 202, started.text
        job = await h.wait_job(started.json()["job"]["id"])
        assert job["state"] == "succeeded", job
        assert job["bytes_done"] == job["bytes_total"] == len(data) and job["progress"][-1] == 100
        stat = (await h.client.get("/files/stat", params={"urn": "fs://main/copied/data.bin"},
                                   headers=h.as_user("alice"))).json()
        assert stat["sha256"] == digest and stat["size"] == len(data)
        assert hashlib.sha256((await h.get("fs://main/copied/data.bin")).content).hexdigest() == digest
        moved = await h.client.post("/files/move", json={"src": "fs://main/copied/data.bin",
                                                         "dst": "fs://other/back.bin"}, headers=h.as_user("alice"))
        job = await h.wait_job(moved.json()["job"]["id"])
        assert job["state"] == "succeeded" and job["progress"][-1] == 100
        assert hashlib.sha256((await h.get("fs://other/back.bin")).content).hexdigest() == digest
        assert (await h.get("fs://main/copied/data.bin")).status_code == 404
        await h.assert_index_matches("main")
        await h.assert_index_matches("other")


async def test_read_only_source_refuses_changes(storage_app, tmp_path, loopback_servers) -> None:
    server = loopback_servers("sftp")
    writable = server.source("main", f"ro-{os.urandom(4).hex()}")
    async with storage_app(storage_sources=[writable, local("local", tmp_path)], storage_mounts=[]) as h:
        await h.put("fs://main/doc.txt", b"published")
    read_only = writable.model_copy(update={"read_only": True})
    async with storage_app(storage_sources=[read_only, local("local", tmp_path)], storage_mounts=[]) as h:
        listed = {s["id"]: s for s in (await h.client.get("/sources", headers=h.as_user("alice"))).json()["sources"]}
        assert listed["main"]["write"] is False and listed["main"]["available"] is True
        assert (await h.get("fs://main/doc.txt")).content == b"published"
        refused = await h.client.put("/files/content", params={"urn": "fs://main/doc.txt"}, content=b"changed",
                                     headers=h.as_user("alice"))
        assert refused.status_code == 405 and refused.json()["error"]["code"] == "not_supported"
        assert refused.json()["error"]["details"]["source"] == "main"
        gone = await h.client.delete("/files", params={"urn": "fs://main/doc.txt"}, headers=h.as_user("alice"))
        assert gone.status_code == 405
        assert (await h.get("fs://main/doc.txt")).content == b"published"
