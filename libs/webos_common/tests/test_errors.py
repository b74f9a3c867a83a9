from fastapi import APIRouter
from pydantic import BaseModel, Field

from webos_common.http.errors import Conflict, NotFound
from webos_common.http.service import create_service_app
from webos_common.testing import lifespan_client


class Item(BaseModel):
    name: str = Field(min_length=1)
    qty: int


def _app():
    router = APIRouter()
    created: list[Item] = []

    @router.post("/items")
    async def create(item: Item) -> dict[str, int]:
        created.append(item)
        return {"count": len(created)}

    @router.get("/items/{item_id}")
    async def get(item_id: str) -> None:
        raise NotFound(f"item {item_id} not found", details={"id": item_id})

    @router.post("/conflict")
    async def conflict() -> None:
        raise Conflict("already there")

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app = create_service_app("errtest", use_mongo=False, use_nats=False, routers=[router])
    app.state.created = created
    return app


async def test_422_names_each_bad_field_and_changes_nothing() -> None:
    app = _app()
    async with lifespan_client(app) as client:
        resp = await client.post("/items", json={"name": "", "qty": "many"})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "validation_failed"
    assert sorted(d["field"] for d in err["details"]) == ["name", "qty"]
    assert "name" in err["message"] and "qty" in err["message"]
    assert app.state.created == []


async def test_domain_not_found_is_404_in_the_error_shape() -> None:
    async with lifespan_client(_app()) as client:
        resp = await client.get("/items/42")
        conflict = await client.post("/conflict")
    assert resp.status_code == 404
    assert resp.json() == {"error": {"code": "not_found", "message": "item 42 not found", "details": {"id": "42"}}}
    assert conflict.status_code == 409


async def test_unexpected_error_is_500_without_internals() -> None:
    app = _app()
    async with app.router.lifespan_context(app):
        import httpx

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            resp = await client.get("/boom", headers={"x-request-id": "req-77"})
    assert resp.status_code == 500
    body = resp.json()
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["details"] == {"request_id": "req-77"}
    assert "passwd" not in resp.text and "Traceback" not in resp.text


async def test_unknown_route_uses_error_shape() -> None:
    async with lifespan_client(_app()) as client:
        resp = await client.get("/nope")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


async def test_request_id_and_traceparent_echoed() -> None:
    trace = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    async with lifespan_client(_app()) as client:
        resp = await client.get("/healthz", headers={"traceparent": trace, "x-request-id": "abc"})
    assert resp.headers["x-request-id"] == "abc"
    assert resp.headers["traceparent"].startswith("00-" + "a" * 32 + "-")
