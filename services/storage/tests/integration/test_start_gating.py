"""Storage started before S3 and before auth's JWKS, as pods start in any order: the process
comes up and serves, `/readyz` answers 503 naming both dependencies, a request with a token
gets a 503 (not a 500), each failed attempt is a WARNING naming the dependency — and once
both appear, the service is ready and serves without a restart."""

from __future__ import annotations

import json
import sys
import time
import uuid

import httpx
import pytest

from webos_common.infra import S3Server
from webos_common.infra.process import ManagedProcess, free_port
from webos_common.security.testing import JwksServer, TestIssuer


def _until(predicate, what: str, proc: ManagedProcess, within: float = 60.0):
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            value = predicate()
            if value:
                return value
        except httpx.TransportError:
            pass
        assert proc.alive(), proc.log_tail()
        time.sleep(0.1)
    raise AssertionError(f"not {what} within {within:.0f}s:\n{proc.log_tail()}")


@pytest.fixture
def storage(mongo_url: str, nats_url: str, tmp_path):
    s3_port, jwks_port, port = free_port(), free_port(), free_port()
    bucket = f"g-{uuid.uuid4().hex[:12]}"
    sources = [{"id": "s3", "kind": "s3", "bucket": bucket, "endpoint_url": f"http://127.0.0.1:{s3_port}",
                "retry_seconds": 1, "timeout": 3}]
    env = {"WEBOS_ENV": "test", "WEBOS_MONGO_URL": mongo_url, "WEBOS_MONGO_DB": f"t_{uuid.uuid4().hex[:16]}",
           "WEBOS_NATS_URL": nats_url, "WEBOS_STATE_DIR": str(tmp_path / "state"), "WEBOS_PORT": str(port),
           "WEBOS_JWKS_URL": f"http://127.0.0.1:{jwks_port}/jwks.json", "WEBOS_AWAIT_JWKS": "true",
           "WEBOS_STORAGE_SOURCES": json.dumps(sources), "WEBOS_STORAGE_HOME_SOURCE": "s3"}
    proc = ManagedProcess("storage", [sys.executable, "-m", "webos_storage"], log_path=tmp_path / "storage.log",
                          env=env)
    proc.start()
    try:
        yield {"proc": proc, "base": f"http://127.0.0.1:{port}", "s3_port": s3_port, "jwks_port": jwks_port,
               "bucket": bucket, "log": tmp_path / "storage.log", "tmp": tmp_path}
    finally:
        proc.stop()


def test_storage_waits_for_s3_and_jwks_not_ready_then_ready(storage) -> None:
    proc, base = storage["proc"], storage["base"]
    issuer = TestIssuer()
    headers = issuer.headers("alice")
    _until(lambda: httpx.get(f"{base}/healthz").status_code == 200, "serving", proc)

    waiting = httpx.get(f"{base}/readyz")
    assert waiting.status_code == 503
    checks = waiting.json()["checks"]
    assert f"auth's JWKS at http://127.0.0.1:{storage['jwks_port']}/jwks.json" in checks["jwks"]
    assert "data source s3" in checks["sources"] and f"127.0.0.1:{storage['s3_port']}" in checks["sources"]
    refused = httpx.get(f"{base}/files", params={"urn": "fs://s3/"}, headers=headers)
    assert refused.status_code == 503, refused.text  # an outage, said as one: never a 500
    assert refused.headers["Retry-After"]
    warned = ["WARNING", f"auth's JWKS at http://127.0.0.1:{storage['jwks_port']}/jwks.json not reachable (attempt",
              f"data source s3 (s3 bucket {storage['bucket']} at http://127.0.0.1:{storage['s3_port']}) "
              "not reachable (attempt"]
    _until(lambda: all(line in storage["log"].read_text() for line in warned), "warned", proc)

    jwks = JwksServer(issuer.jwks, port=storage["jwks_port"])
    jwks.start()
    s3 = S3Server(storage["tmp"] / "s3.log", port=storage["s3_port"], die_with_parent=True)
    s3.start()
    try:
        ready = _until(lambda: (r := httpx.get(f"{base}/readyz")).status_code == 200 and r, "ready", proc)
        assert set(ready.json()["checks"]) >= {"jwks", "sources", "mongodb", "nats"}
        put = httpx.put(f"{base}/files/content", params={"urn": "fs://s3/after.txt"}, content=b"hello",
                        headers=headers)
        assert put.status_code == 201, put.text
        listed = httpx.get(f"{base}/files", params={"urn": "fs://s3/"}, headers=headers)
        assert [item["name"] for item in listed.json()["items"]] == ["after.txt"]
    finally:
        s3.stop()
        jwks.stop()
