"""An unexpected error is answered with the 500 shape and logged once, on one
line, without the local variables of any frame: a secret held in a handler's
local variable reaches no log file and no log message on the bus."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from fastapi import APIRouter

from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.observability.logging import add_sink
from webos_common.testing import lifespan_client

SECRET = "hunter2-sk_live_5f1e9c"


def boom_router() -> APIRouter:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> dict[str, str]:
        password = SECRET  # what diagnose used to print beside the traceback
        card = {"number": SECRET}
        raise RuntimeError(f"cannot charge {len(card)} card(s) with a password of {len(password)} characters")

    @router.get("/done")
    async def done() -> dict[str, str]:
        return {}

    return router


async def test_a_secret_in_a_local_variable_reaches_no_log(nats_url: str, tmp_path, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    app = create_service_app("leaky", settings=WebOSSettings(env="test", nats_url=nats_url), use_mongo=False,
                             routers=[boom_router()])
    nc = await nats.connect(nats_url)
    on_bus: list[str] = []
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def received(msg) -> None:
        on_bus.append(msg.data.decode())
        if "/done" in msg.data.decode() or "marker" in msg.data.decode():
            if not finished.done():
                finished.set_result(None)

    log_file = tmp_path / "leaky.log"
    try:
        await nc.subscribe("webos.logs.leaky", cb=received)
        async with lifespan_client(app) as client:
            add_sink(str(log_file), level="DEBUG")
            resp = await client.get("/boom")
            from loguru import logger

            logger.warning("marker")  # the sink keeps order: everything before it was published
            await asyncio.wait_for(finished, 5)
    finally:
        await nc.close()
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "internal_error"
    stderr = capsys.readouterr().err
    written = log_file.read_text()
    for text in (stderr, written, *on_bus):
        assert SECRET not in text
    errors = [line for line in written.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "RuntimeError" in errors[0] and "test_error_logging.py" in errors[0]
    assert sum("RuntimeError" in m for m in on_bus) == 1
    assert [json.loads(m)["level"] for m in on_bus if "RuntimeError" in m] == ["ERROR"]
