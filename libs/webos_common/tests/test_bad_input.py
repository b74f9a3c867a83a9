"""Bad input is a 422 naming the field, never a 500: NUL characters in the
path or a query parameter, input MongoDB cannot store, nulls in updates,
pagination beyond what MongoDB takes."""

from __future__ import annotations

import uuid

import httpx
from bson.errors import InvalidDocument
from fastapi import FastAPI
from pydantic import BaseModel

from webos_common.documents.schemas import UpdateModel
from webos_common.http.errors import install_error_handlers
from webos_common.http.middleware import RequestContextMiddleware
from webos_common.http.paging import Limit, Skip
from webos_common.observability.metrics import HttpMetrics


class Change(UpdateModel):
    clearable = frozenset({"due"})
    title: str | None = None
    due: str | None = None


class Raw(BaseModel):
    data: dict[str, int]


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(f"t{uuid.uuid4().hex[:8]}"))
    install_error_handlers(app)

    @app.get("/search/{item}")
    async def search(item: str, q: str = "", skip: Skip = 0, limit: Limit = 10) -> dict[str, object]:
        return {"item": item, "q": q, "skip": skip, "limit": limit}

    @app.patch("/things")
    async def patch(change: Change) -> dict[str, object]:
        return change.model_dump(exclude_unset=True)

    @app.post("/raw")
    async def raw(body: Raw) -> None:
        raise InvalidDocument("key 'a\\x00b' must not contain null character")

    return app


async def test_bad_input_is_a_422_naming_the_field() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        nul = await client.get("/search/x", params={"q": "a\x00b"})
        nul_path = await client.get("/search/a%00b")
        huge = await client.get("/search/x", params={"skip": 2**70, "limit": 2**70})
        fine = await client.get("/search/x", params={"q": "ab", "skip": 3})
        null = await client.patch("/things", json={"title": None})
        cleared = await client.patch("/things", json={"due": None})
        unstorable = await client.post("/raw", json={"data": {"a": 1}})
    assert nul.status_code == 422 and nul.json()["error"]["details"][0]["field"] == "q"
    assert nul_path.status_code == 422 and nul_path.json()["error"]["details"][0]["location"] == "path"
    assert huge.status_code == 422
    assert {d["field"] for d in huge.json()["error"]["details"]} == {"skip", "limit"}
    assert fine.json() == {"item": "x", "q": "ab", "skip": 3, "limit": 10}
    assert null.status_code == 422 and null.json()["error"]["details"][0]["field"] == "title"
    assert cleared.status_code == 200 and cleared.json() == {"due": None}
    assert unstorable.status_code == 422 and unstorable.json()["error"]["code"] == "validation_failed"
