import asyncio

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


async def test_shutdown_ends_although_a_background_task_swallowed_its_cancel(webos_env) -> None:
    """The intermittent hang at shutdown: the registry follower awaited after `cancel()` while
    nats-py (`Client._flush_pending`) or Python 3.11's `wait_for` had dropped the cancel, so it
    kept waiting for the next registry change. Every background task now stops through
    `cancel_and_wait`, which repeats the cancel until the task ends."""
    app = create_app(SettingsSettings(shutdown_deadline=10.0))
    async with lifespan_client(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        resources = app.state.resources
        assert app.state.registry_task in resources.background  # stopped by the service app

        async def swallows_once() -> None:  # what nats-py's publish path does to a cancel
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                pass
            await asyncio.Event().wait()

        stubborn = resources.spawn(swallows_once(), name="swallows-cancel")
        await asyncio.sleep(0)
    assert stubborn.cancelled()
    assert app.state.registry_task.done()
