"""The platform's OpenAPI documents pass a validator the project did not write
(`openapi-spec-validator`): each core service's own, and the merged one the
gateway serves — with unique operationIds and schema titles (so a client
generator keeps every schema), the real error body on error responses,
request bodies on uploads and `security: []` on public endpoints."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from openapi_spec_validator import validate

Platform = Any  # the `platform` fixture (conftest.py)

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in doc["paths"].values() for method, op in item.items() if method in METHODS]


def _service_docs() -> dict[str, dict[str, Any]]:
    from webos_auth.main import create_app as auth
    from webos_events.main import create_app as events
    from webos_settings.main import create_app as settings
    from webos_storage.main import create_app as storage

    return {name: make().openapi() for name, make in
            (("auth", auth), ("storage", storage), ("settings", settings), ("events", events))}


@pytest.mark.parametrize("name", ["auth", "storage", "settings", "events"])
def test_each_core_service_spec_is_valid(name: str) -> None:
    doc = _service_docs()[name]
    validate(doc)
    ids = Counter(op["operationId"] for op in _operations(doc))
    assert [i for i, n in ids.items() if n > 1] == []
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for op in _operations(doc):
        assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}


def test_the_merged_spec_is_valid_and_generatable(platform: Platform) -> None:
    with platform.api() as client:
        doc = client.get("/api/openapi.json").json()
        assert client.get("/openapi.json").json()["paths"] == doc["paths"]  # not the shell's empty spec
    validate(doc)
    assert doc["x-webos-sources"]["auth"] == "ok" and doc["x-webos-sources"]["storage"] == "ok"
    ids = Counter(op["operationId"] for op in _operations(doc))
    assert [i for i, n in ids.items() if n > 1] == []
    titles = Counter(schema.get("title") for schema in doc["components"]["schemas"].values())
    assert [t for t, n in titles.items() if n > 1] == []
    paths = doc["paths"]
    assert paths["/api/storage/files/content"]["put"]["requestBody"]["content"]["application/octet-stream"]
    assert "multipart/form-data" in paths["/api/storage/files/upload"]["post"]["requestBody"]["content"]
    assert paths["/api/auth/login"]["post"]["security"] == []
    assert paths["/api/auth/oauth/token"]["post"]["security"] == []  # the OpenID Provider's: the app's own credential
    assert "application/x-www-form-urlencoded" in paths["/api/auth/oauth/token"]["post"]["requestBody"]["content"]
    assert "security" not in paths["/api/storage/files/content"]["get"]  # under the global bearer
    for status in ("401", "403", "404", "409", "422", "503"):
        schema = paths["/api/storage/files/content"]["get"]["responses"][status]["content"]["application/json"]
        assert schema["schema"] == {"$ref": "#/components/schemas/storage.Error"}
