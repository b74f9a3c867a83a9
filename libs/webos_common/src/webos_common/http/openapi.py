"""Make a service's generated OpenAPI document say what the service really does.

FastAPI's generator gets three things wrong for WebOS: a route answering
GET and HEAD gets one operationId for both (the document is invalid); its
422 body is FastAPI's `HTTPValidationError`, while every WebOS error is
`{"error": {"code", "message", "details"}}` (errors.py); and the other
error statuses a route can answer are not declared at all. `conform` fixes
all three on the generated document; `install` wires it into an app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ERROR = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR,
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "stable machine-readable code"},
            "message": {"type": "string"},
            "details": {"description": "per-field problems for 422: a list of {field, message}"},
        },
    }},
}
ERROR_STATUSES = {
    "401": "No valid credential", "403": "Not allowed", "404": "Not found", "409": "Conflict",
    "422": "Invalid input (the field is named in details)", "503": "A dependency is unavailable",
}
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
PROTOCOL_ERRORS = "x-protocol-errors"
"""An operation's statuses whose body a protocol defines (RFC 6749 §5.2 for OAuth), declared on
the operation itself: kept, not replaced with WebOS's `Error`."""


def rewrite_refs(node: Any, rewrite: Callable[[str], str | None]) -> Any:
    """A copy of a JSON Schema or OpenAPI tree whose `$ref`s are rewritten (`rewrite` answers None
    to keep one): how a service's or a model's schemas move into a merged document."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            new = rewrite(value) if key == "$ref" and isinstance(value, str) else None
            out[key] = new if new is not None else rewrite_refs(value, rewrite)
        return out
    if isinstance(node, list):
        return [rewrite_refs(v, rewrite) for v in node]
    return node


def conform(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with unique operationIds and the real error body on every error response."""
    ref = {"$ref": f"#/components/schemas/{ERROR}"}
    seen: set[str] = set()
    for item in (doc.get("paths") or {}).values():
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_id = op.get("operationId")
            if op_id:
                if op_id in seen:
                    op_id = op["operationId"] = f"{op_id}_{method}"
                seen.add(op_id)
            responses = op.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                if status in op.get(PROTOCOL_ERRORS, ()):  # a protocol's own error body (OAuth)
                    continue
                responses[status] = {"description": responses.get(status, {}).get("description", description),
                                     "content": {"application/json": {"schema": dict(ref)}}}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR] = ERROR_SCHEMA
    text = repr(doc.get("paths"))
    for name in _FASTAPI_ERRORS:
        if f"#/components/schemas/{name}'" not in text:
            schemas.pop(name, None)
    return doc


def install(app: FastAPI) -> None:
    """Serve `conform(app's generated document)` at the app's openapi_url (generated once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = conform(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
