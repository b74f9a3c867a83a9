"""The sign-in throttle keys on the real client: X-Forwarded-For is believed
from trusted proxies only; cookies are Secure when the request was HTTPS."""

from __future__ import annotations

import uuid

from webos_auth.main import create_app
from webos_auth.testing import auth_settings
from webos_common.testing import lifespan_client


async def _failures(trusted: list[str]) -> list[int]:
    """Failed sign-ins to fresh accounts, each claiming another forwarded address."""
    app = create_app(auth_settings(trusted_proxies=trusted, login_ip_max_failures=2))
    codes = []
    async with lifespan_client(app) as client:
        for i in range(3):
            resp = await client.post("/login", json={"login": f"nobody-{uuid.uuid4().hex[:6]}", "password": "x"},
                                     headers={"x-forwarded-for": f"198.51.100.{i}"})
            codes.append(resp.status_code)
    return codes


async def test_forwarded_for_from_anyone_does_not_reset_the_address_limit(webos_env: dict[str, str]) -> None:
    assert await _failures([]) == [401, 401, 429]


async def test_a_trusted_proxy_names_the_client(webos_env: dict[str, str]) -> None:
    assert await _failures(["127.0.0.1"]) == [401, 401, 401]


async def test_session_cookies_are_secure_over_https(webos_env: dict[str, str]) -> None:
    async with lifespan_client(create_app(auth_settings())) as client:
        plain = await client.post("/login", json={"login": "root", "password": auth_settings().admin_password
                                                  .get_secret_value()})
        tls = await client.post("/login", json={"login": "root", "password": auth_settings().admin_password
                                                .get_secret_value()}, headers={"x-forwarded-proto": "https"})
    assert all("secure" not in c.lower() for c in plain.headers.get_list("set-cookie"))
    assert all("secure" in c.lower() for c in tls.headers.get_list("set-cookie"))
