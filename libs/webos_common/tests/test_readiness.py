"""/readyz follows MongoDB: 503 while mongod is down, 200 again once it is back."""

import asyncio

from webos_common.config import WebOSSettings
from webos_common.http.service import create_service_app
from webos_common.infra import MongoServer
from webos_common.testing import lifespan_client


async def _wait_status(client, want: int, seconds: float = 20.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        resp = await client.get("/readyz")
        if resp.status_code == want or asyncio.get_running_loop().time() > deadline:
            return resp
        await asyncio.sleep(0.2)


async def test_readyz_tracks_mongod_without_restarting_the_service(tmp_path, nats_url) -> None:
    mongo = MongoServer(tmp_path / "db", log_path=tmp_path / "mongod.log")
    mongo.start()
    try:
        settings = WebOSSettings(env="test", mongo_url=mongo.url, nats_url=nats_url, mongo_db="ready")
        app = create_service_app("readytest", settings=settings)
        async with lifespan_client(app) as client:
            ok = await client.get("/readyz")
            assert ok.status_code == 200
            assert ok.json()["checks"] == {"mongodb": "ok", "nats": "ok"}

            mongo.stop()
            down = await _wait_status(client, 503)
            assert down.status_code == 503
            assert down.json()["checks"]["mongodb"].startswith("failed")
            assert down.json()["checks"]["nats"] == "ok"
            assert (await client.get("/healthz")).status_code == 200

            mongo.start()
            back = await _wait_status(client, 200)
            assert back.status_code == 200, back.json()
    finally:
        mongo.stop()


async def test_metrics_count_requests_by_route(nats_url, mongo_url) -> None:
    app = create_service_app("metricstest", settings=WebOSSettings(env="test", mongo_url=mongo_url, nats_url=nats_url))
    async with lifespan_client(app) as client:
        await client.get("/healthz")
        await client.get("/healthz")
        text = (await client.get("/metrics")).text
    assert 'webos_http_requests_total{method="GET",route="/healthz",service="metricstest",status="200"} 2.0' in text
