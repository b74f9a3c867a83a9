"""`webos_common.clients.auth` against the real auth service (in-process ASGI)."""

from __future__ import annotations

import httpx
import pytest

from webos_auth.main import create_app
from webos_auth.settings import AuthSettings
from webos_auth.testing import ADMIN_PASSWORD, login, register
from webos_common.clients.auth import AuthClient
from webos_common.http.errors import Forbidden, NotFound, Unauthorized
from webos_common.testing import lifespan_client


async def test_me_users_and_admin_changes(settings: AuthSettings) -> None:
    app = create_app(settings)
    async with lifespan_client(app) as http:
        ann = await register(http, "ann")
        ann_token = (await login(http, "ann"))["access_token"]
        admin_token = (await login(http, "root", ADMIN_PASSWORD))["access_token"]

        def as_(token: str) -> AuthClient:
            return AuthClient("http://auth", token=token, transport=httpx.ASGITransport(app=app))

        async with as_(ann_token) as auth:
            me = await auth.me()
            assert (me.id, me.username, me.email) == (ann["id"], "ann", "ann@example.com")
            with pytest.raises(Forbidden):
                await auth.users()
        async with as_(admin_token) as auth:
            found = await auth.users(q="ann")
            assert [u.username for u in found.items] == ["ann"] and found.total == 1
            assert (await auth.user(ann["id"])).email == "ann@example.com"
            assert (await auth.update_user(ann["id"], active=False)).active is False
            with pytest.raises(NotFound):
                await auth.user("nobody")
        async with as_(ann_token) as auth:
            with pytest.raises(Unauthorized):  # disabled: her token is revoked at once
                await auth.me()


async def test_services_get_contacts_over_nats(settings: AuthSettings, nats_url: str) -> None:
    import nats

    from webos_common.clients.auth import contacts

    async with lifespan_client(create_app(settings)) as http:
        ann = await register(http, "cora")
        nc = await nats.connect(nats_url)
        try:
            found = await contacts(nc, [ann["id"], "nobody"])
        finally:
            await nc.close()
    assert found == {ann["id"]: {"email": "cora@example.com", "username": "cora", "active": True}}
