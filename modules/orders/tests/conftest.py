"""Run the orders module in a real module host (MongoDB and NATS from
webos_common's test fixtures); works installed or straight from the folder."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

MODULE_DIR = Path(__file__).resolve().parents[1]
if str(MODULE_DIR / "src") not in sys.path:
    sys.path.insert(0, str(MODULE_DIR / "src"))

from webos_common.security.testing import TestIssuer  # noqa: E402
from webos_common.testing import lifespan_client  # noqa: E402
from webos_modulehost import create_app  # noqa: E402


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def app(webos_env: dict[str, str], issuer: TestIssuer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[object]:
    monkeypatch.setenv("WEBOS_MODULES_DIR", str(MODULE_DIR.parent))
    monkeypatch.setenv("WEBOS_REGISTRY_BUCKET", f"test_{webos_env['WEBOS_MONGO_DB']}")
    app = create_app("orders")
    app.state.resources.verifier = issuer.verifier()
    yield app


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan_client(app) as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture
def ann(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("ann", permissions=("orders.read", "orders.write"))


@pytest.fixture
def ben(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("ben", permissions=("orders.read", "orders.write"))


@pytest.fixture
def carol(issuer: TestIssuer) -> dict[str, str]:
    """An approver."""
    return issuer.headers("carol", permissions=("orders.read", "orders.write", "orders.approve"))


@pytest.fixture
def admin(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers("root", roles=("admin",))
