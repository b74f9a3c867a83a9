"""Pure pieces: path classification, OpenAPI merging, limits configuration."""

from __future__ import annotations

import asyncio

import pytest

from webos_gateway.openapi import merge
from webos_gateway.ratelimit import KeyedFixedWindow, RateLimits, WindowCounters
from webos_gateway.routing import OWN, SHELL, classify


def test_classify_paths() -> None:
    assert classify("/healthz") is OWN
    assert classify("/api/openapi.json") is OWN
    assert classify("/") is SHELL
    assert classify("/_nicegui/1.0/static/x.js") is SHELL
    assert classify("/apix/tasks") is SHELL
    storage = classify("/api/storage/files/a")
    assert (storage.kind, storage.name, storage.prefix_len) == ("core", "storage", len("/api/storage"))
    tasks = classify("/api/tasks/items")
    assert (tasks.kind, tasks.name, tasks.prefix_len) == ("module", "tasks", 0)
    assert classify("/api/tasks") is tasks  # routes are shared, not rebuilt per request


def test_merge_prefixes_paths_and_renames_components() -> None:
    item_ref = {"$ref": "#/components/schemas/Item"}
    core = {"paths": {"/items": {"get": {"operationId": "list_items", "responses": {"200": {"content": {
        "application/json": {"schema": item_ref}}}}}}},
        "components": {"schemas": {"Item": {"type": "object"}}}}
    module = {"paths": {"/api/tasks/items": {"post": {"operationId": "create", "requestBody": {"content": {
        "application/json": {"schema": item_ref}}}}}},
        "components": {"schemas": {"Item": {"type": "string"}}}}
    doc = merge([("storage", core), ("tasks", module), ("events", None)])
    assert set(doc["paths"]) == {"/api/storage/items", "/api/tasks/items"}
    get = doc["paths"]["/api/storage/items"]["get"]
    assert get["operationId"] == "storage.list_items" and get["tags"] == ["storage"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/storage.Item"}
    # titles named apart too, so a client generator keeps both
    assert doc["components"]["schemas"]["storage.Item"] == {"type": "object", "title": "storage.Item"}
    assert doc["components"]["schemas"]["tasks.Item"] == {"type": "string", "title": "tasks.Item"}
    assert doc["x-webos-sources"] == {"storage": "ok", "tasks": "ok", "events": "unavailable"}
    assert doc["externalDocs"]["url"] == "/api/events/asyncapi.json"  # the docs page links the event catalogue


def test_rate_limits_config_and_counting() -> None:
    with pytest.raises(ValueError, match="strategy"):
        RateLimits(user="1/second", module="", strategy="token-bucket")

    async def run() -> list[int | None]:
        limits = RateLimits(user="2/minute", module="", overrides={"slow": "1/minute"})
        user = [await limits.check_user("alice") for _ in range(3)]
        module = [await limits.check_module("slow") for _ in range(2)]
        other = [await limits.check_module("fast") for _ in range(5)]  # "" = unlimited
        return user + module + other

    results = asyncio.run(run())
    assert results[:2] == [None, None] and results[2] is not None and 1 <= results[2] <= 60
    assert results[3] is None and results[4] is not None
    assert results[5:] == [None] * 5


async def test_memory_counters_count_exactly_and_start_afresh_after_the_window() -> None:
    limits = RateLimits(user="5/second", module="")
    burst = await asyncio.gather(*(limits.check_user("bob") for _ in range(8)))
    assert burst.count(None) == 5  # hits in flight together are each counted once
    assert await limits.check_user("carol") is None  # counters are per key
    await asyncio.sleep(1.1)
    assert await limits.check_user("bob") is None  # the window passed: a fresh counter


async def test_keyed_window_counts_on_when_its_key_cache_is_cleared() -> None:
    limits = RateLimits(user="2/minute", module="")
    limiter = limits.limiter
    assert isinstance(limiter, KeyedFixedWindow)
    limiter.max_keys = 1  # every new user clears the cache
    for who in ("alice", "bob", "alice", "bob"):
        assert await limits.check_user(who) is None
    assert await limits.check_user("alice") is not None
    assert await limits.check_user("bob") is not None


async def test_memory_counters_free_expired_keys_at_most_once_per_sweep_interval() -> None:
    counters = WindowCounters()
    counters.sweep_interval = 0.3
    assert await counters.incr("old", 0.1) == 1  # the first hit sweeps (nothing to free yet)
    await asyncio.sleep(0.15)
    assert await counters.incr("new", 60) == 1  # "old" expired, but the next sweep is not due
    assert "old" in counters.counts
    await asyncio.sleep(0.2)
    assert await counters.incr("new", 60, amount=2) == 3  # this hit sweeps: "old" is freed unread
    assert set(counters.counts) == {"new"} and set(counters.expirations) == {"new"}
    assert await counters.get("old") == 0


def test_access_log_line_has_status_latency_user_and_module() -> None:
    import io
    import json
    from types import SimpleNamespace

    from webos_gateway.telemetry import AccessLog

    req = SimpleNamespace(trace="a" * 32, request_id="r1")
    text, js = io.StringIO(), io.StringIO()
    AccessLog(stream=text).write("GET", "/api/tasks/x", 201, 0.0123, "alice", "module:tasks", req)
    AccessLog(stream=js, fmt="json").write("GET", "/api/tasks/x", 201, 0.0123, "alice", "module:tasks", req)
    AccessLog(stream=text, mode="off").write("GET", "/nothing", 200, 0.1, "-", "shell:shell", req)
    line = text.getvalue()  # no running loop: written at once
    assert line.count("\n") == 1
    assert "GET /api/tasks/x -> 201 in 12.3 ms user=alice module=module:tasks" in line
    assert f"trace={'a' * 32}" in line
    record = json.loads(js.getvalue())
    assert record["status"] == 201 and record["user_id"] == "alice" and record["module"] == "module:tasks"
    with pytest.raises(ValueError, match="access log"):
        AccessLog(mode="verbose")


def test_access_log_json_has_the_services_log_shape() -> None:
    import io
    import json
    from types import SimpleNamespace

    from webos_gateway.telemetry import AccessLog

    js = io.StringIO()
    AccessLog(stream=js, fmt="json").write("GET", "/x", 200, 0.001, "bob", "service:auth",
                                           SimpleNamespace(trace="b" * 32, request_id="r2"))
    record = json.loads(js.getvalue())
    assert {"time", "level", "service", "trace_id", "request_id", "user_id", "message"} <= set(record)
    assert record["time"].endswith("Z") and record["message"] == "GET /x -> 200"


def test_span_names_are_route_templates_of_bounded_cardinality() -> None:
    from webos_gateway.spans import route_template, server_span_details

    live = {"tasks"}
    assert route_template("/api/storage/files/123/content", live) == "/api/storage/{path}"
    assert route_template("/api/tasks/tasks/abc", live) == "/api/tasks/{path}"
    assert route_template("/api/nosuch1/x", live) == route_template("/api/nosuch2/y", live) == "/api/{module}/{path}"
    assert route_template("/m/tasks/board", live) == "/{path}"
    assert route_template("/api/openapi.json", live) == "/api/openapi.json"
    assert route_template("/api/docs/assets/swagger-ui.css", live) == "/api/docs/assets/{name}"
    details = server_span_details(lambda: live)
    assert details({"method": "GET", "path": "/api/tasks/tasks/1"}) == (
        "GET /api/tasks/{path}", {"http.route": "/api/tasks/{path}"})
    assert details({"method": "BREW", "path": "/x"})[0] == "HTTP /{path}"
