"""Fixtures: the events service on real MongoDB and NATS, and signed-in users."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from nats.aio.client import Client as NATS

from webos_common.bus import BusSettings, EventBus
from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_events.main import create_app
from webos_events.settings import EventsSettings


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def settings(webos_env) -> EventsSettings:
    return EventsSettings(events_max_page=5)


@pytest.fixture
def app(settings: EventsSettings, issuer: TestIssuer):
    app = create_app(settings)
    app.state.resources.verifier = issuer.verifier()
    return app


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan_client(app) as c:
        yield c


@pytest.fixture
def alice(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("alice", roles=("user",))


@pytest.fixture
def bob(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("bob", roles=("user",))


@pytest.fixture
def admin(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("root", roles=("admin",))


@pytest.fixture
async def other_service(nc: NATS) -> AsyncIterator[Callable[[str], EventBus]]:
    """Buses of other services (emitters and failing consumers)."""
    made: list[EventBus] = []

    def make(name: str, **options) -> EventBus:
        bus = EventBus(nc, service=name, settings=BusSettings(**{"backoff": [0.05], **options}))
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


@pytest.fixture
def eventually():
    return _eventually


async def _eventually(check, timeout: float = 10.0, interval: float = 0.05):
    """Await `check()` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)
