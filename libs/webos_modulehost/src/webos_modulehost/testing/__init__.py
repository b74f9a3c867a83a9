"""Fixtures for a module's own tests: the module served by a real module host
(MongoDB and NATS from webos_common's test plugin), people with the permissions
a test names, and a client. A module's `conftest.py` says only what is its own:

    from webos_modulehost.testing import admin, client, issuer, module_app, person  # noqa: F401
    app = module_app("orders")
    ann = person("ann", "orders.read", "orders.write")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client
from webos_modulehost import create_app

Fixture = Callable[..., Any]


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


def module_app(name: str, *, modules_dir: Path | None = None, env: Mapping[str, str] | None = None) -> Fixture:
    """The `app` fixture: module `name` in a module host that trusts `issuer`'s tokens, with
    its registry bucket named after the test's database (tests never share one)."""

    @pytest.fixture
    async def app(webos_env: dict[str, str], issuer: TestIssuer,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[object]:
        if modules_dir is not None:
            monkeypatch.setenv("WEBOS_MODULES_DIR", str(modules_dir))
        monkeypatch.setenv("WEBOS_REGISTRY_BUCKET", f"test_{webos_env['WEBOS_MONGO_DB']}")
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        created = create_app(name)
        created.state.resources.verifier = issuer.verifier()
        yield created

    return app


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan_client(app) as started:
        yield started


def person(user_id: str, *permissions: str, roles: tuple[str, ...] = ("user",)) -> Fixture:
    """A fixture answering the headers of `user_id` holding `permissions` (and `roles`)."""

    @pytest.fixture
    def headers(issuer: TestIssuer) -> dict[str, str]:
        return issuer.headers(user_id, permissions=permissions, roles=roles)

    return headers


admin = person("root", roles=("admin",))
