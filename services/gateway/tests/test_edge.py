"""Trace and request ids, rate limits, body limits, CORS, metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from webos_gateway.proxy import SMALL_BODY

Rig = Any  # the `rig` fixture (conftest.py)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_client_trace_id_is_the_one_the_service_sees(rig: Rig) -> None:
    headers = {**rig.issuer.headers("alice"), "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
               "x-request-id": "req-123"}
    async with httpx.AsyncClient(base_url=rig.url) as client:
        resp = await client.get("/api/settings/x", headers=headers)
        fresh = await client.get("/api/settings/x", headers=rig.issuer.headers("alice"))
    seen = resp.json()["headers"]
    assert seen["traceparent"].split("-")[1] == TRACE
    assert seen["traceparent"].split("-")[2] != "00f067aa0ba902b7"  # the gateway's own span
    assert seen["x-request-id"] == "req-123"
    assert resp.headers.get_list("x-request-id") == ["req-123"]  # once: the upstream's copy is dropped
    assert len(resp.headers.get_list("traceparent")) == 1
    assert resp.headers["traceparent"].split("-")[1] == TRACE
    new = fresh.json()["headers"]
    assert len(new["traceparent"].split("-")[1]) == 32
    assert new["traceparent"].split("-")[1] == fresh.headers["traceparent"].split("-")[1]
    assert new["x-request-id"] == fresh.headers["x-request-id"]


@pytest.mark.parametrize("rig", [{"rate_limit_user": "3/minute", "rate_limit_module": "5/minute"}],
                         indirect=True)
async def test_rate_limits_per_user_and_per_module(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        alice = rig.issuer.headers("alice")
        codes = [(await client.get("/api/storage/x", headers=alice)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = await client.get("/api/storage/x", headers=alice)
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert (await client.get("/api/storage/x", headers=rig.issuer.headers("bob"))).status_code == 200

        await rig.start_module("reports")
        table = rig.app.state.gateway.table
        for _ in range(100):  # wait for the push from the registry without spending requests
            if table.instances.get("reports"):
                break
            await asyncio.sleep(0.05)
        codes = []
        for i in range(8):  # a new user each time: only the module's limit applies
            resp = await client.get("/api/reports/x", headers=rig.issuer.headers(f"user{i}"))
            codes.append(resp.status_code)
        assert codes.count(200) == 5
        assert codes[-1] == 429
        assert resp.json()["error"]["details"]["module"] == "reports"


@pytest.mark.parametrize("rig", [{"max_body_bytes": 1000, "body_limits": {"/api/storage/": 0}}], indirect=True)
async def test_body_limit_per_route_prefix(rig: Rig) -> None:
    async def chunks() -> Any:
        for _ in range(5):
            yield b"x" * 400

    async with httpx.AsyncClient(base_url=rig.url, headers=rig.issuer.headers("alice")) as client:
        ok = await client.post("/api/settings/x", content=b"x" * 1000)
        assert ok.status_code == 200
        too_big = await client.post("/api/settings/x", content=b"x" * 1001)
        assert too_big.status_code == 413
        assert too_big.json()["error"]["details"] == {"limit": 1000}
        chunked = await client.post("/api/settings/x", content=chunks())
        assert chunked.status_code == 413
        storage = await client.post("/api/storage/x", content=b"x" * 5000)  # uploads are unlimited
        assert storage.json()["body_len"] == 5000


@pytest.mark.parametrize("rig", [{"cors_origins": ["https://app.example"]}], indirect=True)
async def test_cors_for_configured_origins_only(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        preflight = await client.options("/api/storage/x", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        other = await client.options("/api/storage/x", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
        assert "access-control-allow-origin" not in other.headers
        simple = await client.get("/api/storage/x", headers={**rig.issuer.headers("a"), "Origin": "https://app.example"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example"


async def test_health_ready_and_metrics(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url) as client:
        await client.get("/api/storage/x", headers=rig.issuer.headers("alice"))
        await client.get("/api/nothing/x", headers=rig.issuer.headers("alice"))
        ready = await client.get("/readyz")
        metrics = (await client.get("/metrics")).text
    assert (await _get(rig.url, "/healthz")).status_code == 200
    assert ready.status_code == 200 and ready.json()["checks"]["registry"] == "ok"
    assert 'webos_gateway_requests_total{method="GET",route="core:storage",status="200"} 1.0' in metrics
    assert 'route="module:nothing",status="404"' in metrics
    assert "webos_gateway_request_duration_seconds_bucket" in metrics


@pytest.mark.parametrize("rig", [{"health_interval": 0}], indirect=True)  # no health check racing the request
async def test_upstream_down_counts_as_upstream_error(rig: Rig) -> None:
    host = await rig.start_module("flaky")
    async with httpx.AsyncClient(base_url=rig.url, headers=rig.issuer.headers("alice")) as client:
        for _ in range(100):
            if (await client.get("/api/flaky/x")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        await host.stopper.aclose()
        resp = await client.get("/api/flaky/x")
        metrics = (await client.get("/metrics")).text
    assert resp.status_code == 503
    assert 'webos_gateway_upstream_errors_total{kind="connect",route="module:flaky"} 1.0' in metrics


async def _get(base: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as client:
        return await client.get(path)


@pytest.mark.parametrize("rig", [{"upstream_head_timeout": 1.0}], indirect=True)
async def test_an_upstream_holding_its_answer_head_is_a_504_and_only_the_head_is_timed(rig: Rig) -> None:
    async with httpx.AsyncClient(base_url=rig.url, headers=rig.issuer.headers("alice"), timeout=30) as client:
        slow = await client.get("/api/storage/slow")  # took the request, holds its head 2.5 s
        assert slow.status_code == 504
        assert slow.json()["error"] == {"code": "upstream_timeout", "message": "storage did not answer in time",
                                        "details": {"upstream": "storage"}}
        dripping = await client.get("/api/storage/chunks", params={"n": 2, "pause": 1.5})
        assert dripping.text == "part0;part1;"  # a body slower than the head timeout is not cut
        upload = await client.post("/api/storage/slow", content=b"x" * (SMALL_BODY + 1))  # streamed
        assert upload.status_code == 200  # after an upload, the upstream may take its time to answer
        assert upload.json() == {"slow": True, "received": SMALL_BODY + 1}
        chunked = await client.get("/api/storage/chunks", params={"n": 5})
        assert chunked.status_code == 200
        assert chunked.text == "part0;part1;part2;part3;part4;"
        assert chunked.headers.get("transfer-encoding") == "chunked"
        again = await client.get("/api/storage/x")  # the timed-out request's late answer went nowhere
        assert again.status_code == 200
        assert again.json()["path"] == "/x"
