"""Settings as code: export to YAML, dry-run diff, apply, reproduce on an empty database."""

from __future__ import annotations

import uuid
from typing import Any

import yaml


async def _fill(client: Any, admin: Any, ops: Any, issuer: Any, tasks_schema: Any) -> None:
    assert (await client.put("/schemas/tasks", headers=admin, json={"schema": tasks_schema})).status_code == 200
    await client.put("/system/smtp", headers=admin, json={"host": "mail.example.com", "password": "s3cret"})
    await client.put("/system/api-keys", headers=admin, json={"keys": {"maps": "k1"}})
    await client.put("/modules/tasks", headers=admin, json={"page_size": 40, "webhook_token": "hook"})
    await client.put("/me/tasks", headers=issuer.headers("alice"), json={"default_view": "kanban"})
    await client.put("/me/shell", headers=issuer.headers("bob"), json={"theme": "dark"})


async def test_export_then_apply_on_an_empty_database_reproduces(open_app: Any, admin: Any, ops: Any,
                                                                 issuer: Any, tasks_schema: Any) -> None:
    async with open_app() as source:
        await _fill(source, admin, ops, issuer, tasks_schema)
        masked = await source.get("/export", headers=ops)
        assert masked.status_code == 200 and masked.headers["content-type"].startswith("application/yaml")
        assert "s3cret" not in masked.text and "********" in masked.text
        exported = (await source.get("/export", headers=ops, params={"reveal": "true"})).text
        one = yaml.safe_load((await source.get("/export", headers=ops, params={"module": "tasks"})).text)
    assert set(one) == {"webos_settings", "schemas", "modules", "users"}
    assert one["users"] == {"alice": {"tasks": {"default_view": "kanban"}}}
    doc = yaml.safe_load(exported)
    assert doc["system"]["smtp"] == {"host": "mail.example.com", "password": "s3cret"}
    assert doc["users"]["bob"] == {"shell": {"theme": "dark"}}

    async with open_app(mongo_db=f"t_{uuid.uuid4().hex[:16]}") as target:
        dry = await target.post("/apply", headers=ops, content=exported)
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"] is True and dry.json()["schemas"] == ["tasks"]
        assert {"layer": "system", "name": "smtp", "user_id": None, "key": "password",
                "old": None, "new": "********"} in dry.json()["changes"]
        assert (await target.get("/modules/tasks", headers=admin)).status_code == 404  # nothing written

        done = await target.post("/apply", headers=ops, content=exported, params={"dry_run": "false"})
        assert done.status_code == 200 and done.json()["applied"] is True
        assert len(done.json()["changes"]) == len(dry.json()["changes"])
        again = (await target.get("/export", headers=ops, params={"reveal": "true"})).text
        assert yaml.safe_load(again) == doc
        assert (await target.post("/apply", headers=ops, content=exported)).json()["changes"] == []


async def test_apply_is_all_or_nothing(client: Any, admin: Any, ops: Any, tasks_schema: Any) -> None:
    await client.put("/schemas/tasks", headers=admin, json={"schema": tasks_schema})
    bad = yaml.safe_dump({"webos_settings": 1, "system": {"smtp": {"host": "changed"}},
                          "modules": {"tasks": {"page_size": 0}, "nope": {"x": 1}},
                          "users": {"alice": {"tasks": {"webhook_token": "********"}}}})
    r = await client.post("/apply", headers=ops, content=bad, params={"dry_run": "false"})
    assert r.status_code == 422
    fields = [d["field"] for d in r.json()["error"]["details"]]
    assert sorted(fields) == ["modules.nope", "modules.tasks.page_size", "users.alice.tasks.webhook_token"]
    assert (await client.get("/system/smtp", headers=admin)).json()["version"] == 0
    for text, field in (("- a list", "body"), ("system: [1]", "system"), ("extra: 1", "extra"),
                        ("system: {smtp: 3}", "system.smtp"), ("a: [b", "body")):
        r = await client.post("/apply", headers=ops, content=text)
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == field, (text, r.text)
    assert (await client.post("/apply", headers=admin, content="{}")).status_code == 200
    assert (await client.post("/apply", content="{}")).status_code == 401
