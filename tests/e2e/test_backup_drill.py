"""The restore drill of docs/operations.md against the running platform: `webos backup` of the
local stack (its MongoDB, its NATS over TLS with the operator's credential, its local and S3
sources), then `webos restore` into an empty database, a fresh NATS server, an empty folder
and an empty bucket. Every document, stream message and file is back, byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient

from webos_common.infra import NatsServer

WEBOS = [sys.executable, "-m", "webos_cli.main"]
S3_KEYS = {"WEBOS_S3_ACCESS_KEY": "webos", "WEBOS_S3_SECRET_KEY": "webos"}  # the development stack's moto


def _webos(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBOS_NATS", "WEBOS_MONGO"))}
    done = subprocess.run([*WEBOS, *args], capture_output=True, text=True, timeout=180, env={**env, **S3_KEYS})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _manifest(archive: Path) -> dict[str, Any]:
    import tarfile

    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return dict(json.load(member))


def test_the_running_platform_backs_up_and_restores_whole(platform: Any, admin_token: str, tasks_api: str,
                                                          tmp_path: Path) -> None:
    data = os.urandom(300_000)
    name = f"drill-{uuid.uuid4().hex[:8]}.bin"
    with platform.api(admin_token) as client:
        made = client.post(tasks_api, json={"title": f"drill {name}"})
        assert made.status_code == 201, made.text
        home = client.get("/api/storage/sources").json()["home"]
        put = client.put("/api/storage/files/content", params={"urn": f"{home}{name}"}, content=data,
                         headers={"content-type": "application/octet-stream"})
        assert put.status_code == 201, put.text
    stack = ["--state-dir", str(platform.state_dir), "--base-port", str(platform.base_port)]
    archive = tmp_path / "nightly.tar.gz"
    said = _webos("backup", str(archive), *stack)
    assert re.search(r"backed up to .*: [1-9]\d* documents in \d+ collections, [1-9]\d* messages", said), said
    manifest = _manifest(archive)
    counts = manifest["counts"]
    assert counts["files"]["local"] >= 1 and "s3" in counts["s3"]

    mongo_url = f"mongodb://127.0.0.1:{platform.base_port + 20}/?replicaSet=rs0&directConnection=true"
    s3_url = f"http://127.0.0.1:{platform.base_port + 9}"
    restored_db, bucket, back = f"drill_{uuid.uuid4().hex[:8]}", f"drill-{uuid.uuid4().hex[:8]}", tmp_path / "back"
    fresh = NatsServer(tmp_path / "nats", log_path=tmp_path / "nats.log", die_with_parent=True)
    fresh.start()
    try:
        said = _webos("restore", str(archive), "--mongo-url", mongo_url, "--db", restored_db, "--nats-url",
                      fresh.url, "--files", f"local={back}", "--s3", f"s3=s3://{bucket}", "--s3-endpoint-url", s3_url)
        assert "restored from" in said, said
        streams = _stream_counts(fresh.url)
    finally:
        fresh.stop()
    assert {s: n for s, n in streams.items() if s in counts["streams"]} == counts["streams"]
    with MongoClient(mongo_url) as mongo:
        target = mongo[restored_db]
        restored = {c: target[c].count_documents({}) for c in counts["collections"]}
        # MongoDB's TTL monitor removes what expired since the backup (sign-in assertions, codes):
        # those collections may hold fewer, never more; every other one holds exactly as many
        expiring = {c for c in counts["collections"]
                    if any("expireAfterSeconds" in i for i in target[c].index_information().values())}
        assert {c: n for c, n in restored.items() if c not in expiring} == \
            {c: n for c, n in counts["collections"].items() if c not in expiring}
        assert all(restored[c] <= counts["collections"][c] for c in expiring), restored
        task = made.json()
        restored_task = target["tasks_items"].find_one({"_id": ObjectId(task["id"])})
        assert restored_task is not None and restored_task["title"] == task["title"]
        mongo.drop_database(restored_db)
    copies = list(back.rglob(name))
    assert len(copies) == 1, sorted(str(p) for p in back.rglob("*"))[:20]
    assert hashlib.sha256(copies[0].read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def _stream_counts(url: str) -> dict[str, int]:
    import asyncio

    import nats

    async def read() -> dict[str, int]:
        nc = await nats.connect(url)
        try:
            return {i.config.name or "": i.state.messages for i in await nc.jetstream().streams_info()}
        finally:
            await nc.close()

    return asyncio.run(read())
