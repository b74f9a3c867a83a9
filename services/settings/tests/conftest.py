"""Fixtures: the settings app against the real MongoDB and NATS, users from a TestIssuer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_settings.main import create_app
from webos_settings.settings import SettingsSettings

ADMIN = {"roles": ("admin",)}
ROOT = {"roles": ("admin",), "permissions": ("settings.admin", "settings.secrets.read")}
TASKS_SCHEMA = {
    "title": "TasksSettings", "type": "object",
    "properties": {
        "page_size": {"type": "integer", "minimum": 1, "maximum": 500, "default": 25},
        "default_view": {"type": "string", "enum": ["list", "kanban"], "default": "list"},
        "webhook_token": {"anyOf": [{"type": "string", "writeOnly": True, "format": "password"}, {"type": "null"}],
                          "default": None},
    },
}


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def open_app(webos_env: dict[str, str], issuer: TestIssuer
             ) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """`async with open_app(**settings) as client`: one app (own settings) per block."""

    @asynccontextmanager
    async def _open(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        overrides.setdefault("settings_watch_registry", False)
        app = create_app(SettingsSettings(**overrides))
        app.state.resources.verifier = issuer.verifier("settings")  # as create_service_app: people + its own
        async with lifespan_client(app) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client

    return _open


@pytest.fixture
async def client(open_app: Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
                 ) -> AsyncIterator[httpx.AsyncClient]:
    async with open_app() as c:
        yield c


@pytest.fixture
async def mongo(mongo_url: str, db_name: str) -> AsyncIterator[Any]:
    raw: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    yield raw[db_name]
    await raw.close()


@pytest.fixture
def admin(issuer: TestIssuer) -> dict[str, str]:
    """An admin by role (everything but the explicit secrets permission)."""
    return issuer.headers("root", **ADMIN)  # type: ignore[arg-type]


@pytest.fixture
def ops(issuer: TestIssuer) -> dict[str, str]:
    """An operator holding settings.admin and settings.secrets.read explicitly."""
    return issuer.headers("ops", **ROOT)  # type: ignore[arg-type]


@pytest.fixture
def tasks_schema() -> dict[str, Any]:
    return TASKS_SCHEMA
