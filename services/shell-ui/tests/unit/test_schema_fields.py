from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from webos_shell.schema_checks import validate
from webos_shell.schema_fields import coerce, fields_from_schema, server_errors


class Status(StrEnum):
    todo = "todo"
    in_progress = "in_progress"
    done = "done"


class Address(BaseModel):
    city: str
    zip: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None


class TaskCreate(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    status: Status = Status.todo
    priority: Annotated[int, Field(ge=1, le=5)] = 3
    done: bool = False
    due: date | None = None
    tags: list[str] = []
    address: Address | None = None
    assignee: str | None = Field(default=None, json_schema_extra={"x-link": {"endpoint": "/api/auth/users",
                                                                              "label": "username"}})
    api_key: str | None = Field(default=None, json_schema_extra={"format": "password"})


SCHEMA = TaskCreate.model_json_schema()


def test_every_kind_comes_out_of_a_pydantic_schema() -> None:
    specs = {s.name: s for s in fields_from_schema(SCHEMA)}
    assert {n: s.kind for n, s in specs.items()} == {
        "title": "string", "description": "text", "status": "enum", "priority": "integer", "done": "boolean",
        "due": "date", "tags": "list", "address": "object", "assignee": "link", "api_key": "secret",
    }
    assert specs["title"].required and not specs["description"].required
    assert specs["status"].options == ["todo", "in_progress", "done"]
    assert (specs["priority"].minimum, specs["priority"].maximum) == (1, 5)
    assert specs["due"].nullable
    assert [c.path for c in specs["address"].children] == ["address.city", "address.zip"]
    assert specs["assignee"].link == {"endpoint": "/api/auth/users", "label": "username"}


def test_validation_names_the_field() -> None:
    specs = fields_from_schema(SCHEMA)
    errors = validate(specs, {"title": "", "priority": 9, "status": "later", "due": "tomorrow",
                              "address": {"city": "", "zip": "12"}})
    assert errors == {"title": "Required", "priority": "Must be at most 5", "status": errors["status"],
                      "due": "Enter a date as YYYY-MM-DD", "address.city": "Required",
                      "address.zip": "Not in the expected format"}
    assert "todo" in errors["status"]
    assert validate(specs, {"title": "Write", "priority": 2, "due": "2026-12-01"}) == {}


def test_coerce_builds_a_body_the_model_accepts() -> None:
    specs = fields_from_schema(SCHEMA)
    body = coerce(specs, {"title": "Write", "priority": 2.0, "description": "", "done": False,
                          "tags": ["a"], "address": {"city": "Oslo", "zip": None}})
    assert body == {"title": "Write", "priority": 2, "done": False, "tags": ["a"], "address": {"city": "Oslo"}}
    TaskCreate.model_validate(body)


def test_server_422_details_map_to_fields() -> None:
    ours = {"error": {"code": "validation_failed", "message": "Invalid input: title",
                      "details": [{"field": "title", "message": "too short"},
                                  {"field": "address.city", "message": "required"}]}}
    assert server_errors(ours) == {"title": "too short", "address.city": "required"}
    fastapi_shape = {"detail": [{"loc": ["body", "priority"], "msg": "too big"}]}
    assert server_errors(fastapi_shape) == {"priority": "too big"}
    assert server_errors({"error": {"details": None}}) == {}
