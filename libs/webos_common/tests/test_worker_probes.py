"""The task worker's own probes, from a real worker process on its own NATS server: alive and
ready while it takes tasks; NATS stopped → not ready (naming NATS) but still alive, so an
outage is waited out instead of restarting every worker; NATS back → ready again. A probe
is answered by the worker's event loop itself, so a loop a task blocks fails liveness."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from webos_common.infra import NatsServer
from webos_common.infra.process import free_port
from webos_common.tasks.health import WorkerHealth
from webos_common.testing.bus import provision_now


def _until(check, what: str, proc: subprocess.Popen[bytes], log: Path, within: float = 60.0):
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            value = check()
            if value:
                return value
        except httpx.TransportError:
            pass
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"not {what} within {within:.0f}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def own_nats(tmp_path):
    server = NatsServer(tmp_path / "nats", log_path=tmp_path / "nats.log", die_with_parent=True)
    server.start()
    provision_now(server.url)
    yield server
    server.stop()


@pytest.mark.integration  # its own NATS server and a worker process
def test_worker_probes_follow_the_worker_not_a_tcp_connection(own_nats, tmp_path) -> None:
    port, log = free_port(), tmp_path / "worker.log"
    env = {**os.environ, "WEBOS_NATS_URL": own_nats.url, "WEBOS_HEALTH_PORT": str(port), "WEBOS_ENV": "test"}
    with log.open("ab") as out:  # the child has its own copy of the file
        proc = subprocess.Popen([sys.executable, "-m", "webos_common.tasks.worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = _until(lambda: (r := httpx.get(f"{base}/readyz", timeout=5)).status_code == 200 and r,
                       "ready", proc, log)
        assert ready.json()["checks"] == {"receiver": "ok", "schedules": "ok", "nats": "ok"}
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
        assert "process_resident_memory_bytes" in metrics and "webos_build_info" in metrics
        assert httpx.get(f"{base}/nothing", timeout=5).status_code == 404

        own_nats.stop()
        down = _until(lambda: (r := httpx.get(f"{base}/readyz", timeout=5)).status_code == 503 and r,
                      "not ready", proc, log)
        assert down.json()["checks"]["nats"].startswith("failed: NATS")
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200  # alive: waits the outage out

        own_nats.start()
        _until(lambda: httpx.get(f"{base}/readyz", timeout=5).status_code == 200, "ready again", proc, log)
    finally:
        proc.terminate()
        proc.wait(30)
    assert proc.returncode == 0, log.read_text()[-3000:]


async def test_liveness_fails_once_the_receiver_ended() -> None:
    loop = asyncio.get_running_loop()
    receiver, schedules = loop.create_future(), loop.create_future()
    health = WorkerHealth({"receiver": receiver, "schedules": schedules}, connected=lambda: True)
    assert health.answer("/healthz")[0] == 200
    receiver.set_exception(ConnectionError("consumer deleted"))
    status, _, body = health.answer("/healthz")
    assert status == 503
    assert b"ended with ConnectionError: consumer deleted" in body
    schedules.cancel()
    assert b"failed: stopped" in health.answer("/readyz")[2]
