"""The event catalogue through the gateway, on the platform as `make up` starts it: every
kernel service's payload schemas and the modules' manifests, one valid AsyncAPI 3.0 document
(checked against the official schema vendored in services/events/tests/asyncapi/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

Platform = Any  # the `platform` fixture (conftest.py)
SCHEMA = Path(__file__).resolve().parents[2] / "services/events/tests/asyncapi/asyncapi-3.0.0.schema.json"


def test_the_event_catalogue_describes_the_running_platform(platform: Platform) -> None:
    with platform.api() as client:  # no token: public, like /api/openapi.json
        doc = platform.until(lambda: _complete(client.get("/api/events/asyncapi.json").json()), timeout=45)
        linked = client.get("/api/openapi.json").json()["externalDocs"]["url"]
    assert doc, "the catalogue never had every source"
    assert linked == "/api/events/asyncapi.json"
    errors = [e.message for e in jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).iter_errors(doc)]
    assert errors == []
    messages, operations = doc["components"]["messages"], doc["operations"]
    # kernel payloads come from each service's own endpoint, modules' from their manifests
    assert messages["file.created"]["payload"] == {"$ref": "#/components/schemas/storage.FileChanged"}
    assert "storage.send.storage.quota_changed" in operations  # declared, so its credential allows it
    assert messages["task.created"]["payload"] == {"$ref": "#/components/schemas/tasks.TaskRead"}  # a record event
    assert messages["user.created"]["payload"] == {"$ref": "#/components/schemas/auth.UserEvent"}
    assert messages["settings.changed"]["payload"] == {"$ref": "#/components/schemas/settings.SettingsChanged"}
    assert messages["order.paid"]["payload"] == {"$ref": "#/components/schemas/orders.OrderPaid"}
    assert {"orders.send.order.paid", "storage.send.file.created", "events.receive.order.paid",
            "tasks.send.task.created"} <= set(operations)
    assert {"inventory.receive.order.paid", "orders.receive.stock.reserved"} <= set(operations)  # the saga


def _complete(doc: dict[str, Any]) -> dict[str, Any] | None:
    sources = doc.get("x-webos-sources", {})
    modules = {op["x-webos-principal"]["name"] for op in doc.get("operations", {}).values()}
    ready = all(sources.get(name) == "ok" for name in ("auth", "storage", "settings", "modules"))
    return doc if ready and {"tasks", "orders", "inventory"} <= modules else None
