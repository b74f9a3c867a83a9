from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_modulehost import create_app


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def app(webos_env: dict[str, str], issuer: TestIssuer,
              monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[object]:
    monkeypatch.setenv("WEBOS_SCHEDULER", "false")  # tests drive the scheduler themselves
    monkeypatch.setenv("WEBOS_MODULE_UI", "false")  # its views run in a browser: tests/e2e
    app = create_app("tasks")
    app.state.resources.verifier = issuer.verifier()
    yield app


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan_client(app) as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture
def alice(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("alice", permissions=("tasks.read", "tasks.write"))


@pytest.fixture
def bob(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("bob", permissions=("tasks.read", "tasks.write"))


@pytest.fixture
def admin(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("root", roles=("admin",))
