from webos_common.testing import lifespan_client
from webos_settings.main import create_app
from webos_settings.settings import SettingsSettings


async def test_alive_and_ready_against_real_infra(webos_env) -> None:
    app = create_app(SettingsSettings())
    async with lifespan_client(app) as client:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert alive.status_code == 200
    assert ready.status_code == 200, ready.json()
    assert set(ready.json()["checks"]) >= {"nats"}
