"""Dependency outages answer a fast 503 with Retry-After through the shared error handling,
and a start-up that cannot reach its dependency ends, naming it."""

import asyncio

import pytest
from fastapi import APIRouter, Request
from nats.errors import NoRespondersError
from pymongo.errors import ServerSelectionTimeoutError

from webos_common.bus.connection import connect_nats
from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app, get_resources
from webos_common.http.startup import DependencyUnreachable, redact
from webos_common.infra import MongoServer
from webos_common.infra.process import free_port
from webos_common.testing import lifespan_client


def _raising(exc: Exception):
    router = APIRouter()

    @router.get("/x")
    async def x() -> None:
        raise exc

    return create_service_app("outage", use_mongo=False, use_nats=False, routers=[router])


@pytest.mark.parametrize(("exc", "dependency"), [
    (ServerSelectionTimeoutError("no primary"), "MongoDB"),
    (NoRespondersError(), "NATS"),
])
async def test_each_dependency_error_class_is_a_503_with_retry_after(exc, dependency) -> None:
    async with lifespan_client(_raising(exc)) as client:
        resp = await client.get("/x")
    assert resp.status_code == 503
    assert int(resp.headers["Retry-After"]) > 0
    body = resp.json()["error"]
    assert body["code"] == "unavailable"
    assert body["details"]["dependency"] == dependency


@pytest.mark.integration  # starts, stops and restarts a MongoDB server
async def test_mongodb_stopped_answers_503_then_200_after_restart(tmp_path) -> None:
    server = MongoServer(tmp_path / "mongo", log_path=tmp_path / "mongod.log", die_with_parent=True)
    server.start()
    router = APIRouter()

    @router.get("/count")
    async def count(request: Request) -> dict[str, int]:
        return {"n": await get_resources(request).db["things"].count_documents({})}

    settings = WebOSSettings(service_name="outage", mongo_url=server.url, mongo_db="outage", mongo_timeout=0.5)
    app = create_service_app("outage", settings=settings, use_nats=False, routers=[router])
    try:
        async with lifespan_client(app) as client:
            assert (await client.get("/count")).status_code == 200
            server.stop()
            down = await client.get("/count")
            assert down.status_code == 503, down.text
            assert down.headers["Retry-After"]
            assert down.json()["error"]["details"]["dependency"] == "MongoDB"
            assert (await client.get("/readyz")).status_code == 503
            await asyncio.to_thread(server.start)
            for _ in range(100):  # the driver finds the server again on its next check
                back = await client.get("/count")
                if back.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            assert back.status_code == 200, back.text
    finally:
        server.stop()


async def test_nats_unreachable_fails_the_start_naming_nats(log_lines) -> None:
    url = f"nats://svc:secret@127.0.0.1:{free_port()}"
    with pytest.raises(DependencyUnreachable, match=r"NATS at nats://svc:\*\*\*@127\.0\.0\.1"):
        await connect_nats(url, name="outage", deadline=1.0)
    warnings = [line for line in log_lines if line.startswith("WARNING") and "NATS at" in line]
    assert warnings, log_lines
    assert all("secret" not in line for line in log_lines)


def test_redact_hides_only_the_password() -> None:
    assert redact("mongodb://u:p%40ss@h:1/?x=y") == "mongodb://u:***@h:1/?x=y"
    assert redact("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


async def test_every_process_exposes_process_and_build_info_metrics() -> None:
    app = create_service_app("metered", use_mongo=False, use_nats=False)
    async with lifespan_client(app) as client:
        text = (await client.get("/metrics")).text
    assert "process_resident_memory_bytes" in text
    assert 'webos_build_info{python="' in text


def test_one_json_log_shape_for_services_and_the_gateway(capsys) -> None:
    import json

    from loguru import logger

    from webos_common import context
    from webos_common.observability.logging import configure_logging

    configure_logging("shape", fmt="json")
    try:
        with context.use({"trace_id": "7" * 32}):
            logger.warning("NATS at {} not reachable", "nats://x")
    finally:
        configure_logging("shape")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert {k: line[k] for k in ("level", "service", "trace_id", "user_id", "message")} == {
        "level": "WARNING", "service": "shape", "trace_id": "7" * 32, "user_id": "-",
        "message": "NATS at nats://x not reachable"}
    assert line["time"].endswith("Z")


async def test_an_unreachable_jwks_is_an_outage_not_a_forged_token(log_lines) -> None:
    from webos_common.http.errors import Unavailable
    from webos_common.security import HttpJWKS

    jwks = HttpJWKS(f"http://127.0.0.1:{free_port()}/.well-known/jwks.json", timeout=1.0)
    with pytest.raises(Unavailable, match="JWKS"):
        await jwks.get_key("some-kid")
    assert any(line.startswith("WARNING") and "JWKS at http://127.0.0.1" in line for line in log_lines)
