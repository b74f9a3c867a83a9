"""Auth tests run the real app in-process against the real MongoDB and NATS
(fixtures of the webos pytest plugin), with cheap argon2 parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import auth_settings
from webos_common.testing import lifespan_client


@pytest.fixture
def settings(webos_env: dict[str, str]) -> AuthSettings:
    return auth_settings()


@pytest.fixture
async def client(settings: AuthSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan_client(create_app(settings)) as c:
        yield c
