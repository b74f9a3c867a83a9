"""The service as a real process (uvicorn): memory stays flat on 200 MB up and
down and on a 1 GB streamed upload (whose sha256 is right), and an upload cut
off midway leaves nothing visible."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aioboto3
import httpx
import psutil
import pytest

from webos_common.infra.process import ManagedProcess, free_port
from webos_common.security.testing import JwksServer, TestIssuer

MB = 1024 * 1024


@pytest.fixture(scope="module")
def service(mongo_url: str, nats_url: str, s3_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One storage process for this module (starting one costs seconds)."""
    tmp_path = tmp_path_factory.mktemp("storage-process")
    issuer = TestIssuer()
    jwks = JwksServer(issuer.jwks)
    jwks.start()
    bucket = f"p-{uuid.uuid4().hex[:12]}"
    sources = [{"id": "local", "kind": "local", "root": str(tmp_path / "files")},
               {"id": "s3", "kind": "s3", "bucket": bucket, "endpoint_url": s3_url}]
    port = free_port()
    env = {"WEBOS_ENV": "test", "WEBOS_MONGO_URL": mongo_url, "WEBOS_MONGO_DB": f"t_{uuid.uuid4().hex[:16]}",
           "WEBOS_NATS_URL": nats_url, "WEBOS_STATE_DIR": str(tmp_path / "state"), "WEBOS_PORT": str(port),
           "WEBOS_JWKS_URL": jwks.url, "WEBOS_STORAGE_SOURCES": json.dumps(sources), "WEBOS_LOG_LEVEL": "WARNING"}
    proc = ManagedProcess("storage", [sys.executable, "-m", "webos_storage"], log_path=tmp_path / "storage.log",
                          env=env)
    proc.start()
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.alive(), proc.log_tail()
            time.sleep(0.05)
        headers = issuer.headers("alice")
        yield {"base": base, "headers": headers, "pid": proc.pid, "port": port, "root": tmp_path / "files",
               "s3_url": s3_url, "bucket": bucket, "token": headers["Authorization"]}
    finally:
        proc.stop()
        jwks.stop()


@pytest.fixture
async def client(service: dict) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service["base"], timeout=60) as http:
        yield http


class PeakRss(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            threading.Event().wait(0.02)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


async def test_200_mb_up_and_down_keeps_rss_flat(service, client) -> None:
    headers = service["headers"]
    block = os.urandom(MB)
    total = 200
    urn = "fs://local/big/200mb.bin"
    warm = await client.put("/files/content", params={"urn": "fs://local/warm.bin"}, content=block * 4,
                            headers=headers)
    assert warm.status_code == 201
    assert len((await client.get("/files/content", params={"urn": "fs://local/warm.bin"}, headers=headers)).content)
    baseline = psutil.Process(service["pid"]).memory_info().rss
    sampler = PeakRss(service["pid"])
    sampler.start()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(total):
            yield block

    try:
        put = await client.put("/files/content", params={"urn": urn}, content=body(), headers=headers)
        assert put.status_code == 201, put.text
        digest, size = hashlib.sha256(), 0
        async with client.stream("GET", "/files/content", params={"urn": urn}, headers=headers) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_raw():
                digest.update(chunk)
                size += len(chunk)
    finally:
        peak = sampler.stop()
    reference = hashlib.sha256()
    for _ in range(total):
        reference.update(block)
    assert size == total * MB
    assert digest.hexdigest() == reference.hexdigest() == put.json()["sha256"]
    growth = peak - baseline
    print(f"storage RSS: baseline {baseline / MB:.0f} MB, peak {peak / MB:.0f} MB")
    assert growth < 100 * MB, f"RSS grew by {growth / MB:.0f} MB"


@pytest.mark.slow
async def test_a_1_gb_streamed_upload_keeps_rss_flat_and_its_sha256_right(service, client) -> None:
    """The body goes to disk as it arrives (no temp copy, no buffering of the whole), hashed on
    the way: the process holds a few MiB whatever the size, and the index has the body's sha256."""
    headers, total = service["headers"], 1024
    blocks = [os.urandom(MB) for _ in range(4)]
    urn = "fs://local/big/1gb.bin"
    baseline = psutil.Process(service["pid"]).memory_info().rss
    sampler = PeakRss(service["pid"])
    sampler.start()
    reference = hashlib.sha256()

    async def body() -> AsyncIterator[bytes]:
        for index in range(total):
            block = blocks[index % len(blocks)]
            reference.update(block)
            yield block

    try:
        put = await client.put("/files/content", params={"urn": urn}, content=body(), headers=headers,
                               timeout=280)
    finally:
        peak = sampler.stop()
    assert put.status_code == 201, put.text
    stored = service["root"] / "big" / "1gb.bin"
    try:
        assert put.json()["size"] == stored.stat().st_size == total * MB
        assert put.json()["sha256"] == reference.hexdigest() == await asyncio.to_thread(_sha256_of, stored)
    finally:
        stored.unlink()
    growth = peak - baseline
    print(f"storage RSS over 1 GB: baseline {baseline / MB:.0f} MB, peak {peak / MB:.0f} MB")
    assert growth < 64 * MB, f"RSS grew by {growth / MB:.0f} MB"


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 * MB):
            digest.update(block)
    return digest.hexdigest()


def cut_upload(port: int, token: str, urn: str, declared: int, sent: int) -> None:
    """Start a raw upload that promises `declared` bytes, send `sent`, and hang up."""
    from urllib.parse import quote

    with socket.create_connection(("127.0.0.1", port)) as sock:
        head = (f"PUT /files/content?urn={quote(urn, safe='')} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n")
        sock.sendall(head.encode())
        chunk = b"\x01" * MB
        for _ in range(sent // MB):
            sock.sendall(chunk)


async def wait_until(predicate, *, tries: int = 200) -> bool:
    for _ in range(tries):
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_interrupted_upload_leaves_nothing_visible(service, client) -> None:
    headers = service["headers"]
    tmp_dir = service["root"] / ".webos-tmp"
    await asyncio.to_thread(cut_upload, service["port"], service["token"], "fs://local/cut.bin", 50 * MB, 20 * MB)

    async def local_clean() -> bool:
        return not any(tmp_dir.iterdir())

    assert await wait_until(local_clean)
    assert (await client.get("/files/stat", params={"urn": "fs://local/cut.bin"}, headers=headers)).status_code == 404
    assert (await client.get("/search", params={"name": "cut"}, headers=headers)).json()["total"] == 0

    await asyncio.to_thread(cut_upload, service["port"], service["token"], "fs://s3/cut.bin", 50 * MB, 20 * MB)
    session = aioboto3.Session(aws_access_key_id="webos", aws_secret_access_key="webos", region_name="us-east-1")
    async with session.client("s3", endpoint_url=service["s3_url"]) as s3:
        async def s3_clean() -> bool:
            uploads = await s3.list_multipart_uploads(Bucket=service["bucket"])
            return not uploads.get("Uploads")

        await asyncio.sleep(0.2)
        assert await wait_until(s3_clean)
        listed = await s3.list_objects_v2(Bucket=service["bucket"])
        assert [o["Key"] for o in listed.get("Contents", [])] == []
    assert (await client.get("/files/stat", params={"urn": "fs://s3/cut.bin"}, headers=headers)).status_code == 404
    assert (await client.get("/search", params={"name": "cut"}, headers=headers)).json()["total"] == 0
