"""Helpers for tests that run a real auth service: cheap-argon2 settings,
small builders (register, sign in, bearer headers) and `Accounts`, a
principal registry of service accounts with their seeds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from webos_auth.settings import AuthSettings
from webos_common.security.principals import Kind, Principal, PrincipalRegistry, new_seed, public_key_of
from webos_common.security.service_auth import ServiceCredentials, client_assertion
from webos_common.testing import lifespan_client

ADMIN_PASSWORD = "Adm1n-Passw0rd!"  # noqa: S105 - test credential
PASSWORD = "Corr3ct-Horse-Battery"  # noqa: S105 - test credential


def auth_settings(**overrides: Any) -> AuthSettings:
    base: dict[str, Any] = {
        "argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1,
        "admin_password": ADMIN_PASSWORD, "admin_email": "root@example.com", "admin_username": "root",
    }
    return AuthSettings(**{**base, **overrides})


async def register(client: httpx.AsyncClient, name: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
    name = name or f"u{uuid.uuid4().hex[:8]}"
    resp = await client.post("/register", json={"email": f"{name}@example.com", "username": name,
                                                "password": password})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def login(client: httpx.AsyncClient, who: str, password: str = PASSWORD) -> dict[str, Any]:
    resp = await client.post("/login", json={"login": who, "password": password})
    assert resp.status_code == 200, resp.text
    client.cookies.clear()
    return dict(resp.json())


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await login(client, "root", ADMIN_PASSWORD))


async def declare(client: httpx.AsyncClient, headers: dict[str, str], *names: str) -> None:
    """Declare permissions as a module would (grouped by their first part), so roles may hold them."""
    groups: dict[str, list[dict[str, str]]] = {}
    for name in names:
        groups.setdefault(name.split(".", 1)[0], []).append({"name": name})
    for module, items in groups.items():
        resp = await client.post("/permissions", headers=headers, json={"module": module, "permissions": items})
        assert resp.status_code == 204, resp.text


async def user_headers(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, str]]:
    user = await register(client)
    return user, bearer(await login(client, user["username"]))


class Accounts:
    """A `principals.json` in a directory, the seeds of its principals, and auth apps that use it."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / "principals.json"
        self.seeds: dict[str, str] = {}

    def add(self, name: str, kind: Kind = "service", permissions: list[str] | None = None) -> str:
        registry = PrincipalRegistry.load(self.path)
        seed = self.seeds[name] = new_seed()
        registry.principals[name] = Principal(name=name, kind=kind, public_key=public_key_of(seed),
                                              permissions=permissions or [])
        registry.save(self.path)
        return seed

    def remove(self, name: str) -> None:
        registry = PrincipalRegistry.load(self.path)
        registry.principals.pop(name, None)
        registry.save(self.path)

    def settings(self, **overrides: Any) -> AuthSettings:
        return auth_settings(auth_principals_file=str(self.path), **overrides)

    @asynccontextmanager
    async def auth(self, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        """Auth in-process (its client's `app` attribute is the app)."""
        from webos_auth.main import create_app

        app = create_app(self.settings(**overrides))
        async with lifespan_client(app) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client

    def assertion(self, name: str, **claims: Any) -> str:
        return client_assertion(name, self.seeds.get(name) or new_seed(), **claims)

    def credentials(self, name: str, auth_url: str, *, http: httpx.AsyncClient | None = None) -> ServiceCredentials:
        return ServiceCredentials(name, self.seeds[name], auth_url, http=http)
