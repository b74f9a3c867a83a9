"""Helpers for tests that run a real auth service: cheap-argon2 settings and
small builders (register, sign in, bearer headers)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from webos_auth.settings import AuthSettings

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


async def user_headers(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, str]]:
    user = await register(client)
    return user, bearer(await login(client, user["username"]))
