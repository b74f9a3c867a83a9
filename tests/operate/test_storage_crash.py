"""Storage SIGKILLed mid-upload, run as `webos up` runs it (under `webos_cli.supervise`, against
real MongoDB, NATS and a moto S3): the uploading client gets a clear 503-class error naming
storage rather than a socket error; nothing half-written is ever visible; the supervisor
restarts the service, whose start sweeps the temp file and aborts the open multipart upload;
the client's retry then stores the whole file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aioboto3
import httpx
import pytest

from webos_cli.supervise import read_status
from webos_common.clients.storage import StorageClient
from webos_common.http.errors import NotFound, Unavailable
from webos_common.infra.process import ManagedProcess, free_port
from webos_common.security.testing import JwksServer, TestIssuer

MB = 1024 * 1024
TMP = ".webos-tmp"  # the local source's temp folder (webos_storage.adapters.local.TMP)


@pytest.fixture
def supervised(mongo_url: str, nats_url: str, s3_url: str, tmp_path: Path):
    issuer = TestIssuer()
    jwks = JwksServer(issuer.jwks)
    jwks.start()
    bucket, port = f"crash-{uuid.uuid4().hex[:12]}", free_port()
    sources = [{"id": "local", "kind": "local", "root": str(tmp_path / "files")},
               {"id": "s3", "kind": "s3", "bucket": bucket, "endpoint_url": s3_url}]
    env = {**os.environ, "WEBOS_ENV": "test", "WEBOS_MONGO_URL": mongo_url,
           "WEBOS_MONGO_DB": f"t_{uuid.uuid4().hex[:16]}", "WEBOS_NATS_URL": nats_url,
           "WEBOS_STATE_DIR": str(tmp_path / "state"), "WEBOS_PORT": str(port), "WEBOS_JWKS_URL": jwks.url,
           "WEBOS_STORAGE_SOURCES": json.dumps(sources),
           "WEBOS_STORAGE_STALE_UPLOAD_SECONDS": "1"}  # one replica: every leftover at start is a crash's
    status = tmp_path / "storage.status.json"
    supervisor = ManagedProcess("storage", [sys.executable, "-m", "webos_cli.supervise", str(status), "--",
                                            sys.executable, "-m", "webos_storage"],
                                log_path=tmp_path / "storage.log", env=env)
    supervisor.start()
    try:
        yield {"base": f"http://127.0.0.1:{port}", "token": issuer.token("alice"), "status": status,
               "root": tmp_path / "files", "bucket": bucket, "s3_url": s3_url, "proc": supervisor}
    finally:
        supervisor.stop()
        jwks.stop()


def _ready(base: str, proc: ManagedProcess, within: float = 90.0) -> None:
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.alive(), proc.log_tail()
        time.sleep(0.2)
    raise AssertionError(f"storage not ready within {within:.0f}s:\n{proc.log_tail(40)}")


async def _until(check, what: str, within: float = 60.0):
    end = time.monotonic() + within
    while time.monotonic() < end:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"not {what} within {within:.0f}s")


async def _open_uploads(s3, bucket: str) -> list[dict]:
    uploads: list[dict] = (await s3.list_multipart_uploads(Bucket=bucket)).get("Uploads", [])
    return uploads


async def test_storage_killed_mid_upload_leaves_nothing_and_the_client_retries(supervised) -> None:
    s = supervised
    await asyncio.to_thread(_ready, s["base"], s["proc"])
    block = os.urandom(MB)
    whole = hashlib.sha256(block * 24).hexdigest()
    stall = asyncio.Event()  # the body stops half way until the service is gone

    async def half_then_stall() -> AsyncIterator[bytes]:
        for i in range(24):
            if i == 12:
                await stall.wait()
            yield block

    session = aioboto3.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    async with StorageClient(s["base"], token=s["token"]) as client, \
            session.client("s3", endpoint_url=s["s3_url"]) as s3:
        uploads = [asyncio.create_task(client.put(urn, half_then_stall()))
                   for urn in ("fs://local/big.bin", "fs://s3/big.bin")]
        temp = s["root"] / TMP
        await _until(lambda: _true(temp.is_dir() and any(p.stat().st_size >= 8 * MB for p in temp.iterdir())),
                     "a temp file on disk")
        await _until(lambda: _open_uploads(s3, s["bucket"]), "a multipart upload open on S3")

        first_pid = read_status(s["status"])["child_pid"]
        os.kill(first_pid, signal.SIGKILL)  # the storage process dies mid-upload
        stall.set()  # the client goes on sending into a dead connection
        outcomes = await asyncio.gather(*uploads, return_exceptions=True)
        for outcome in outcomes:
            assert isinstance(outcome, Unavailable), outcome  # said as an outage, naming storage
            assert outcome.details["dependency"] == "storage" and "retry it" in str(outcome)

        # the supervisor restarts it; its start sweeps what the crash left behind
        await asyncio.to_thread(_ready, s["base"], s["proc"])
        status = read_status(s["status"])
        assert status["restarts"] == 1 and status["last_exit"] == -signal.SIGKILL
        assert status["child_pid"] != first_pid
        assert list(temp.iterdir()) == []
        assert await _open_uploads(s3, s["bucket"]) == []
        for urn in ("fs://local/big.bin", "fs://s3/big.bin"):
            with pytest.raises(NotFound):  # nothing half-written is visible
                await client.stat(urn)
        assert "big.bin" not in [p.name for p in s["root"].iterdir()]
        assert (await s3.list_objects_v2(Bucket=s["bucket"])).get("KeyCount", 0) == 0

        async def whole_body() -> AsyncIterator[bytes]:
            for _ in range(24):
                yield block

        for urn in ("fs://local/big.bin", "fs://s3/big.bin"):  # the client's retry
            stored = await client.put(urn, whole_body())
            assert stored.size == 24 * MB
            assert hashlib.sha256(await client.read_bytes(urn)).hexdigest() == whole


async def _true(value: bool) -> bool:
    return value
