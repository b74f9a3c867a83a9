"""200 MB up and down through a real gateway process: its memory stays flat."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from webos_common.infra.process import ManagedProcess, free_port, wait_port
from webos_common.security.testing import TestIssuer
from webos_common.testing import serve_app

MB = 1024 * 1024
SIZE = 200 * MB
CHUNK = b"\x5a" * MB


def storage_app(issuer: TestIssuer) -> FastAPI:
    app = FastAPI()

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
        return {"received": total}

    @app.get("/download")
    async def download(size: int) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(size // MB):
                yield CHUNK
        return StreamingResponse(body(), media_type="application/octet-stream",
                                 headers={"content-length": str(size)})

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, object]:
        return issuer.jwks

    return app


class PeakRSS:
    """Samples a process's resident memory in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def gateway_env(nats_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"WEBOS_ENV": "test", "WEBOS_NATS_URL": nats_url, "WEBOS_REGISTRY_BUCKET": f"gw_{uuid.uuid4().hex[:8]}",
           "WEBOS_PORT": str(free_port()), "WEBOS_LOG_LEVEL": "WARNING"}


async def test_200mb_upload_and_download_keep_gateway_memory_flat(gateway_env: dict[str, str],
                                                                  tmp_path: Path) -> None:
    issuer = TestIssuer()
    async with serve_app(storage_app(issuer)) as upstream:
        env = {**gateway_env, "WEBOS_STORAGE_URL": upstream, "WEBOS_JWKS_URL": f"{upstream}/.well-known/jwks.json"}
        gateway = ManagedProcess("gateway", [sys.executable, "-m", "webos_gateway"], log_path=tmp_path / "gw.log",
                                 env=env, cwd=Path(os.getcwd()))
        gateway.start()
        try:
            port = int(env["WEBOS_PORT"])
            await asyncio.to_thread(wait_port, port, timeout=30, proc=gateway.proc)
            await _exchange(f"http://127.0.0.1:{port}", issuer, gateway)
        finally:
            gateway.stop()


async def _exchange(base: str, issuer: TestIssuer, gateway: ManagedProcess) -> None:
    assert gateway.pid is not None
    async def body(size: int) -> AsyncIterator[bytes]:
        for _ in range(size // MB):
            yield CHUNK

    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(base_url=base, headers=issuer.headers("alice"), timeout=timeout) as client:
        # warm up: pools, buffers and the token cache exist before the baseline
        warm = await client.post("/api/storage/upload", content=body(8 * MB))
        assert warm.json() == {"received": 8 * MB}, gateway.log_tail()
        async with client.stream("GET", "/api/storage/download", params={"size": 8 * MB}) as resp:
            assert sum([len(c) async for c in resp.aiter_raw()]) == 8 * MB
        baseline = psutil.Process(gateway.pid).memory_info().rss

        with PeakRSS(gateway.pid) as rss:
            up = await client.post("/api/storage/upload", content=body(SIZE))
            assert up.status_code == 200, up.text
            assert up.json() == {"received": SIZE}
            sized = await client.post("/api/storage/upload", content=body(SIZE),
                                      headers={"content-length": str(SIZE)})
            assert sized.json() == {"received": SIZE}
            received = 0
            async with client.stream("GET", "/api/storage/download", params={"size": SIZE}) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-length"] == str(SIZE)
                async for chunk in resp.aiter_raw():
                    received += len(chunk)
            assert received == SIZE
    growth = rss.peak - baseline
    print(f"gateway RSS baseline {baseline / MB:.1f} MB, peak growth {growth / MB:.1f} MB")
    assert growth < 40 * MB, f"gateway RSS grew by {growth / MB:.1f} MB moving 3 x 200 MB"
