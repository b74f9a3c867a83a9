"""The event catalogue: a valid AsyncAPI 3.0 document of what is really on the bus.

Validated against the official AsyncAPI 3.0.0 JSON Schema, vendored in `asyncapi/` (see its README)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from webos_common.bus import register_event, unregister_event
from webos_common.http.service import create_service_app
from webos_common.infra.process import free_port
from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry
from webos_common.testing import lifespan_client, serve_app
from webos_events.main import create_app
from webos_events.settings import EventsSettings

SCHEMA = Path(__file__).parent / "asyncapi" / "asyncapi-3.0.0.schema.json"


@cache
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def problems(doc: dict[str, Any]) -> list[str]:
    """What the AsyncAPI schema refuses, and every `$ref` that points nowhere."""
    found = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator().iter_errors(doc)]
    return found + [f"dangling {ref}" for ref in _refs(doc) if not _resolves(doc, ref)]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    return [r for v in node for r in _refs(v)] if isinstance(node, list) else []


def _resolves(doc: dict[str, Any], ref: str) -> bool:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


class Parcel(BaseModel):
    weight_g: int


class Shipped(BaseModel):
    order_id: str
    parcels: list[Parcel]


class Probed(BaseModel):
    urn: str


@pytest.fixture
async def module(nc: NATS) -> AsyncIterator[str]:
    """A module announced in the registry: emits `<name>:shipped`, receives `user:created`."""
    name = f"cat{uuid.uuid4().hex[:8]}"
    topic = f"{name}:shipped"
    registry = ModuleRegistry(nc.jetstream())
    await registry.announce(ModuleManifest(
        name=name, version="1.2.0", instance_id="i1", base_url="http://127.0.0.1:1",
        events_emitted=[topic], events_consumed=["user:created", f"{name}:*"],
        event_schemas={topic: Shipped.model_json_schema(), "user:deleted": Probed.model_json_schema()}))
    yield name
    await registry.withdraw(name, "i1")


@pytest.fixture
async def storage_url() -> AsyncIterator[tuple[str, str]]:
    """A kernel service named storage on a real port, which registered `file:probed_<x>`."""
    topic = f"file:probed_{uuid.uuid4().hex[:8]}"
    register_event(topic, Probed)
    app = create_service_app("storage", use_mongo=False, use_nats=False)
    try:
        async with serve_app(app) as url:
            yield url, topic
    finally:
        unregister_event(topic)


async def catalogue(settings: EventsSettings) -> dict[str, Any]:
    async with lifespan_client(create_app(settings)) as client:
        response = await client.get("/asyncapi.json")  # no token: public, as the OpenAPI document is
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def test_the_catalogue_is_a_valid_asyncapi_document_of_the_kernels_events(webos_env) -> None:
    doc = await catalogue(EventsSettings(auth_url=nowhere(), storage_url=nowhere(), settings_url=nowhere()))
    assert problems(doc) == []
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["user.created"]["address"] == "webos.events.{source}.user.created"
    assert {"auth.send.user.created", "events.receive.user.created", "worker.send.task.status",
            "shell-ui.receive.notification.created"} <= set(doc["operations"])
    message = doc["components"]["messages"]["task.status"]
    assert message["payload"] == {"$ref": "#/components/schemas/common.TaskAnnouncement"}  # webos_common's own
    assert message["headers"]["allOf"][1]["properties"]["ce-type"] == {"const": "task:status"}
    headers = doc["components"]["schemas"]["CloudEventHeaders"]
    assert {"ce-specversion", "ce-id", "ce-type", "ce-source", "ce-time", "content-type"} <= set(headers["required"])
    assert {"ce-traceparent", "ce-webosidentity", "ce-authid"} <= set(headers["properties"])
    assert doc["x-webos-sources"]["auth"] == "unavailable"  # its payloads unknown, its topics still listed
    assert "@" not in doc["servers"]["nats"]["host"]  # the NATS URL's credentials stay out


async def test_a_module_in_the_registry_appears_with_its_subscriptions_and_schemas(webos_env, module: str) -> None:
    doc = await catalogue(EventsSettings(auth_url=nowhere(), storage_url=nowhere(), settings_url=nowhere()))
    assert problems(doc) == []
    key = f"{module}.shipped"
    assert doc["operations"][f"{module}.send.{key}"]["channel"] == {"$ref": f"#/channels/{key}"}
    assert f"{module}.receive.{key}" in doc["operations"]  # its own pattern `<name>:*`
    assert f"{module}.receive.user.created" in doc["operations"]
    assert f"events.receive.{key}" in doc["operations"]  # the event log takes everything
    schemas = doc["components"]["schemas"]
    assert doc["components"]["messages"][key]["payload"] == {"$ref": f"#/components/schemas/{module}.Shipped"}
    assert schemas[f"{module}.Shipped"]["properties"]["parcels"]["items"] == {
        "$ref": f"#/components/schemas/{module}.Parcel"}
    assert f"{module}.Probed" not in schemas  # it described `user:deleted`, which it may not emit


async def test_a_kernel_services_payload_schemas_come_from_its_own_endpoint(webos_env, storage_url) -> None:
    url, topic = storage_url
    doc = await catalogue(EventsSettings(auth_url=nowhere(), storage_url=url, settings_url=nowhere()))
    assert problems(doc) == []
    key = topic.replace(":", ".")
    assert doc["x-webos-sources"]["storage"] == "ok"
    assert doc["components"]["messages"][key]["payload"] == {"$ref": "#/components/schemas/storage.Probed"}
    assert f"storage.send.{key}" in doc["operations"]


def test_the_schema_check_refuses_what_asyncapi_3_does_not_allow() -> None:
    """The vendored schema really validates: an AsyncAPI 2 style operation and a dangling ref fail."""
    doc = {"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"},
           "channels": {"a": {"address": "a"}},
           "operations": {"o": {"action": "publish", "channel": {"$ref": "#/channels/b"}}}}
    found = problems(doc)
    assert any("publish" in p for p in found) and "dangling #/channels/b" in found
