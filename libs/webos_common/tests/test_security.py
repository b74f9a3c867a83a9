import pytest
from fastapi import APIRouter, Depends

from webos_common import context
from webos_common.http.errors import Forbidden, Unauthorized
from webos_common.http.service import create_service_app
from webos_common.identity import User
from webos_common.security import CurrentUser, require_permission
from webos_common.security.testing import TestIssuer
from webos_common.testing import lifespan_client

ISSUER = TestIssuer()


def _app():
    router = APIRouter()

    @router.get("/me")
    async def me(user: CurrentUser) -> dict[str, str | None]:
        ctx = context.current_user.get()
        return {"id": user.id, "ctx": ctx.id if ctx else None}

    @router.get("/inventory", dependencies=[Depends(require_permission("inventory.read"))])
    async def inventory() -> dict[str, bool]:
        return {"ok": True}

    app = create_service_app("sectest", use_mongo=False, use_nats=False, routers=[router])
    app.state.resources.verifier = ISSUER.verifier()
    return app


async def test_valid_token_sets_user_and_context() -> None:
    async with lifespan_client(_app()) as client:
        resp = await client.get("/me", headers=ISSUER.headers("alice"))
    assert resp.json() == {"id": "alice", "ctx": "alice"}


@pytest.mark.parametrize("token", [
    ISSUER.token("a", expires_in=-60),
    ISSUER.token("a")[:-4] + "AAAA",
    TestIssuer().token("a"),  # unknown kid
    TestIssuer(audience="other").token("a"),
    "not-a-jwt",
])
async def test_bad_tokens_are_401(token: str) -> None:
    async with lifespan_client(_app()) as client:
        resp = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
        missing = await client.get("/me")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthorized"
    assert missing.status_code == 401


async def test_route_permission_dependency() -> None:
    async with lifespan_client(_app()) as client:
        denied = await client.get("/inventory", headers=ISSUER.headers("bob", permissions=("tasks.read",)))
        allowed = await client.get("/inventory", headers=ISSUER.headers("bob", permissions=("inventory.*",)))
    assert denied.status_code == 403
    assert allowed.status_code == 200


async def test_permission_decorator_uses_context_user() -> None:
    @require_permission("tasks.write")
    async def write() -> str:
        return "written"

    with pytest.raises(Unauthorized):
        await write()
    with context.as_user(User(id="x", permissions=("tasks.read",))), pytest.raises(Forbidden):
        await write()
    with context.as_user(User(id="y", permissions=("tasks.write",))):
        assert await write() == "written"
