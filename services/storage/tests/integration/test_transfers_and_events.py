"""Cross-source moves as background jobs with progress; events on the bus (NATS)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time

import nats
import pytest

from webos_common.bus.topics import topic_filter
from webos_common.bus.wire import envelope_of
from webos_storage.adapters.local import LocalDataSource
from webos_storage.shares import ShareSigner


async def wait_job(h, job_id: str, user: str = "alice") -> dict:
    return await h.wait_job(job_id, user)


@pytest.mark.parametrize("kind", ["local", "s3", "ftp", "ftps", "sftp", "smb", "webdav", "gdrive"])
async def test_cross_source_move_keeps_bytes_and_reports_progress(storage_app, kind, nats_url) -> None:
    data = os.urandom(3 * 1024 * 1024 + 123)
    digest = hashlib.sha256(data).hexdigest()
    nc = await nats.connect(nats_url)
    progress: list[dict] = []

    async def on_progress(msg) -> None:
        progress.append(envelope_of(msg.headers, msg.data).payload)

    await nc.subscribe(topic_filter("task:progress"), cb=on_progress)
    await nc.subscribe(topic_filter("task:status"), cb=on_progress)
    try:
        async with storage_app(kind, storage_background_bytes=1024 * 1024) as h:
            await h.put("fs://main/big/data.bin", data)
            await h.put("fs://main/big/small.txt", b"small")
            tags = await h.client.put("/files/tags", json={"urn": "fs://main/big/data.bin", "tags": ["keep"]},
                                      headers=h.as_user("alice"))
            assert tags.status_code == 200
            started = await h.client.post("/files/move", json={"src": "fs://main/big", "dst": "fs://other/moved"},
                                          headers=h.as_user("alice"))
            assert started.status_code == 202, started.text
            job = await wait_job(h, started.json()["job"]["id"])
            assert job["state"] == "succeeded", job
            assert job["bytes_done"] == job["bytes_total"] == len(data) + 5
            assert job["progress"] == sorted(job["progress"]) and job["progress"][-1] == 100
            assert len(job["progress"]) >= 3  # 1 MB chunks of a 3 MB file
            got = await h.get("fs://other/moved/data.bin")
            assert hashlib.sha256(got.content).hexdigest() == digest
            stat = (await h.client.get("/files/stat", params={"urn": "fs://other/moved/data.bin"},
                                       headers=h.as_user("alice"))).json()
            assert stat["sha256"] == digest and stat["tags"] == ["keep"] and stat["owner"] == "alice"
            assert (await h.get("fs://main/big/data.bin")).status_code == 404
            await h.assert_index_matches("main")
            await h.assert_index_matches("other")
            other = await h.client.get(f"/jobs/{job['id']}", headers=h.as_user("mallory"))
            assert other.status_code == 404
        await nc.flush()
        for _ in range(50):
            if any(p["state"] == "succeeded" for p in progress):
                break
            await asyncio.sleep(0.02)
        mine = [p for p in progress if p["task_id"] == job["id"]]
        percents = [p["percent"] for p in mine]
        assert percents and percents[-1] == 100 and percents == sorted(percents) and len(percents) >= 4
        assert mine[0]["state"] == "running" and mine[-1]["state"] == "succeeded"
        assert {p["user_id"] for p in mine} == {"alice"} and mine[0]["name"] == "storage.move"
    finally:
        await nc.close()


async def test_small_cross_source_copy_runs_inline(storage_app) -> None:
    async with storage_app("local") as h:
        await h.put("fs://main/c.txt", b"copy me")
        response = await h.client.post("/files/copy", json={"src": "fs://main/c.txt", "dst": "fs://other/c.txt"},
                                       headers=h.as_user("bob", permissions=()))
        assert response.status_code == 201 and response.json()["job"]["state"] == "succeeded"
        copied = (await h.client.get("/files/stat", params={"urn": "fs://other/c.txt"},
                                     headers=h.as_user("bob"))).json()
        assert copied["owner"] == "bob" and copied["sha256"] == hashlib.sha256(b"copy me").hexdigest()
        assert (await h.get("fs://main/c.txt")).content == b"copy me"
        await h.assert_index_matches("other")


async def test_file_events_are_published(storage_app, nats_url) -> None:
    nc = await nats.connect(nats_url)
    seen: list[tuple[str, dict]] = []

    async def on_event(msg) -> None:
        envelope = envelope_of(msg.headers, msg.data).model_dump(mode="json")
        seen.append((envelope["topic"], envelope["payload"]))

    await nc.subscribe(topic_filter("file:>"), cb=on_event)
    try:
        async with storage_app() as h:
            await h.put("fs://main/e.txt", b"1")
            await h.put("fs://main/e.txt", b"2")
            await h.client.post("/files/move", json={"src": "fs://main/e.txt", "dst": "fs://main/f.txt"},
                                headers=h.as_user("alice"))
            await h.client.delete("/files", params={"urn": "fs://main/f.txt"}, headers=h.as_user("alice"))
            await nc.flush()
            for _ in range(100):
                if len(seen) >= 4:
                    break
                await asyncio.sleep(0.02)
    finally:
        await nc.close()
    assert [t for t, _ in seen] == ["file:created", "file:updated", "file:moved", "file:deleted"]
    assert seen[0][1]["urn"] == "fs://main/e.txt" and seen[0][1]["sha256"] == hashlib.sha256(b"1").hexdigest()
    assert seen[2][1] == {"from": "fs://main/e.txt", "to": "fs://main/f.txt", "by": "alice"}
    assert seen[3][1]["urn"] == "fs://main/f.txt"


async def test_share_links_sign_and_expire(storage_app) -> None:
    async with storage_app() as h:
        await h.put("fs://main/s.txt", b"shared bytes")
        made = await h.client.post("/shares", json={"urn": "fs://main/s.txt", "expires_in": 60},
                                   headers=h.as_user("alice"))
        assert made.status_code == 201
        token = made.json()["token"]
        anonymous = await h.client.get(f"/shares/{token}")
        assert anonymous.status_code == 200 and anonymous.content == b"shared bytes"
        ranged = await h.client.get(f"/shares/{token}", headers={"range": "bytes=0-5"})
        assert ranged.status_code == 206 and ranged.content == b"shared"
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert (await h.client.get(f"/shares/{tampered}")).status_code == 404
        expired = ShareSigner("changeme").sign("fs://main/s.txt", int(time.time()) - 1)
        assert (await h.client.get(f"/shares/{expired}")).status_code == 404
        too_long = await h.client.post("/shares", json={"urn": "fs://main/s.txt", "expires_in": 10**9},
                                       headers=h.as_user("alice"))
        assert too_long.status_code == 400 and too_long.json()["error"]["details"]["field"] == "expires_in"


class FailingSource(LocalDataSource):
    """Local disk whose reads of `*.broken` files fail after the first chunk, while `failing`."""

    failing = False

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None):
        async for chunk in super().open_file(path, offset=offset, length=length):
            yield chunk
            if self.failing and path.endswith(".broken"):
                raise OSError("disk went away")


async def test_failed_transfer_takes_back_what_it_wrote(storage_app, tmp_path) -> None:
    main = FailingSource("main", tmp_path / "main")
    other = LocalDataSource("other", tmp_path / "other")
    home = LocalDataSource("local", tmp_path / "local")
    for source in (main, other, home):
        await source.connect()
    sources = {"main": main, "other": other, "local": home}
    async with storage_app(adapters={"sources": sources}, storage_background_bytes=1024) as h:
        await h.put("fs://main/job/a.txt", b"a" * 5000)
        await h.put("fs://main/job/z.broken", os.urandom(3 * 1024 * 1024))
        before = await h.snapshot("main")
        main.failing = True
        started = await h.client.post("/files/move", json={"src": "fs://main/job", "dst": "fs://other/job"},
                                      headers=h.as_user("alice"))
        assert started.status_code == 202
        job = await wait_job(h, started.json()["job"]["id"])
        main.failing = False
        assert job["state"] == "failed" and "disk went away" in job["error"]
        assert await h.snapshot("main") == before
        assert await h.snapshot("other") == {}
        await h.assert_index_matches("main")
        await h.assert_index_matches("other")


async def test_every_replica_answers_for_a_transfer_job_and_a_lost_one_reads_interrupted(storage_app) -> None:
    """Two storage replicas on one database: the job a move started on one is followed on the
    other; a job whose replica was killed (no save for a minute) reads as failed, not running."""
    from datetime import UTC, datetime, timedelta

    from webos_storage.domain.model import Job

    async with storage_app("local", storage_background_bytes=1024) as one, \
            storage_app("local", storage_background_bytes=1024) as two:
        await one.put("fs://main/big/a.bin", os.urandom(300_000))
        started = await one.client.post("/files/copy", json={"src": "fs://main/big", "dst": "fs://local/big"},
                                        headers=one.as_user("alice"))
        assert started.status_code == 202, started.text
        job_id = started.json()["job"]["id"]
        seen = await two.client.get(f"/jobs/{job_id}", headers=two.as_user("alice"))
        assert seen.status_code == 200, seen.text  # saved before the first replica answered
        assert (await two.client.get(f"/jobs/{job_id}", headers=two.as_user("mallory"))).status_code == 404
        done = await two.wait_job(job_id)
        assert done["state"] == "succeeded" and done["bytes_done"] == 300_000 and done["progress"][-1] == 100
        lost = Job(kind="copy", src="fs://main/x", dst="fs://local/x", owner="alice", state="running",
                   bytes_total=10, updated=datetime.now(UTC) - timedelta(minutes=5))
        await one.container.jobs.store.save(lost)
        interrupted = (await two.client.get(f"/jobs/{lost.id}", headers=two.as_user("alice"))).json()
        assert interrupted["state"] == "failed" and "interrupted" in interrupted["error"]
        assert (await two.client.get("/jobs/nope", headers=two.as_user("alice"))).status_code == 404
