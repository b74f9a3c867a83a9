"""JSON Schema (as Pydantic writes it) → field specs, and server 422 details → field
errors (the checks before sending are `schema_checks`). Pure: the AutoForm renders these
specs; tests need no browser.

Links: a string property with `"x-link": {"endpoint": "/api/auth/users",
"label": "username", "value": "id"}` (or `"x-link": "<endpoint>"`) gets a
picker over that endpoint. Files: `"format": "fs-urn"` (or `"x-file": true`)
is a `fs://…` URN chosen from the person's files. Secrets: `"format":
"password"`, `"writeOnly"` or `"x-secret": true` are shown masked. People and roles: `"format": "user-id"` and
`"format": "role-name"` (`webos_common.documents.sharing.UserRef`/`RoleRef`) get the
system user and role pickers (searchable, over auth's directory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from webos_shell.choices import enum_of

Kind = Literal["string", "text", "integer", "number", "boolean", "enum", "date", "datetime",
               "object", "list", "link", "secret", "file"]


@dataclass
class FieldSpec:
    name: str
    path: str  # dotted, as the server names it in a 422 ("address.city", "tags.0")
    kind: Kind
    label: str
    required: bool = False
    nullable: bool = False
    default: Any = None
    description: str = ""
    options: list[Any] = field(default_factory=list)  # enum values
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    children: list[FieldSpec] = field(default_factory=list)  # object properties
    item: FieldSpec | None = None  # list items
    link: dict[str, str] | None = None
    read_only: bool = False
    schema: dict[str, Any] = field(default_factory=dict)  # the value's own JSON Schema (`$defs` carried)
    labels: dict[str, str] = field(default_factory=dict)  # enum value -> what a person reads (`choices`)


def _label(name: str, schema: dict[str, Any]) -> str:
    return str(schema.get("title") or name.replace("_", " ").capitalize())


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    target: Any = root
    for part in ref.lstrip("#/").split("/"):
        target = target.get(part, {})
    resolved = {k: v for k, v in _resolve(target, root).items() if k != "title"}  # the type's name, not the field's
    return {**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}


def _unwrap_nullable(schema: dict[str, Any], root: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    for key in ("anyOf", "oneOf"):
        variants = schema.get(key)
        if variants:
            rest = [v for v in variants if v.get("type") != "null"]
            if len(rest) == 1:
                outer = {k: v for k, v in schema.items() if k != key}
                return {**_resolve(rest[0], root), **outer}, len(rest) < len(variants)
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        others = [k for k in kind if k != "null"]
        return {**schema, "type": others[0] if others else "string"}, True
    return schema, False


PICKERS = {  # the system pickers: a person (by id) or a role (by name)
    "user-id": {"endpoint": "/api/auth/directory/people", "label": "display_name", "value": "id"},
    "role-name": {"endpoint": "/api/auth/directory/roles", "label": "name", "value": "name"},
}


def field_spec(name: str, schema: dict[str, Any], root: dict[str, Any], *, path: str = "",
               required: bool = False) -> FieldSpec:
    schema, nullable = _unwrap_nullable(_resolve(schema, root), root)
    spec = FieldSpec(name=name, path=path or name, kind="string", label=_label(name, schema),
                     required=required, nullable=nullable, default=schema.get("default"),
                     description=str(schema.get("description", "")), read_only=bool(schema.get("readOnly")))
    kind = schema.get("type")
    fmt = schema.get("format")
    link = schema.get("x-link") or PICKERS.get(str(fmt))
    if link:
        spec.kind = "link"
        spec.link = {"endpoint": link} if isinstance(link, str) else {k: str(v) for k, v in link.items()}
    elif (enum := enum_of(schema)) is not None:
        spec.kind, (spec.options, spec.labels) = "enum", enum
    elif "const" in schema:
        spec.kind, spec.options = "enum", [schema["const"]]
    elif kind == "boolean":
        spec.kind = "boolean"
    elif kind in ("integer", "number"):
        spec.kind = kind
        spec.minimum = schema.get("minimum", schema.get("exclusiveMinimum"))
        spec.maximum = schema.get("maximum", schema.get("exclusiveMaximum"))
    elif kind == "object" and "properties" in schema:
        spec.kind = "object"
        spec.children = fields_from_schema(schema, root, prefix=spec.path)
    elif kind == "array":
        spec.kind = "list"
        spec.item = field_spec("item", schema.get("items", {}), root, path=f"{spec.path}.*")
        spec.min_length, spec.max_length = schema.get("minItems"), schema.get("maxItems")
    elif fmt == "date":
        spec.kind = "date"
    elif fmt == "date-time":
        spec.kind = "datetime"
    elif fmt == "password" or schema.get("writeOnly") or schema.get("x-secret"):
        spec.kind = "secret"
    elif fmt == "fs-urn" or schema.get("x-file"):
        spec.kind = "file"
    if spec.kind in ("string", "secret", "link", "file"):
        spec.min_length, spec.max_length = schema.get("minLength"), schema.get("maxLength")
        spec.pattern = schema.get("pattern")
        if spec.kind == "string" and ((spec.max_length or 0) > 200 or schema.get("x-widget") == "textarea"):
            spec.kind = "text"
    spec.schema = {**schema, **({"format": "fs-urn"} if spec.kind == "file" else {}),
                   **({"$defs": root["$defs"]} if "$defs" in root else {})}
    return spec


def fields_from_schema(schema: dict[str, Any], root: dict[str, Any] | None = None, *,
                       prefix: str = "") -> list[FieldSpec]:
    """The form's fields, in the schema's property order."""
    root = root or schema
    schema = _resolve(schema, root)
    required = set(schema.get("required", []))
    return [
        field_spec(name, prop, root, path=f"{prefix}.{name}" if prefix else name, required=name in required)
        for name, prop in schema.get("properties", {}).items()
    ]


def blank(value: Any) -> bool:
    """An input left empty: the value is left out of the body."""
    return value is None or value == "" or value == []


def coerce(specs: list[FieldSpec], values: dict[str, Any]) -> dict[str, Any]:
    """The request body: numbers as numbers, empty optional values left out."""
    body: dict[str, Any] = {}
    for spec in specs:
        value: Any = values.get(spec.name)
        if blank(value) and spec.kind != "boolean":
            continue
        if spec.kind == "integer":
            value = int(float(value))
        elif spec.kind == "number":
            value = float(value)
        elif spec.kind == "object":
            value = coerce(spec.children, value or {})
        body[spec.name] = value
    return body


def server_errors(body: Any) -> dict[str, str]:
    """A 422 body (`{"error": {"details": [{"field", "message"}]}}` or
    FastAPI's `{"detail": [{"loc", "msg"}]}`) → field path → message."""
    found: dict[str, str] = {}
    error = body.get("error", {}) if isinstance(body, dict) else {}
    details = error.get("details") if isinstance(error, dict) else None
    if details is None and isinstance(body, dict):
        details = body.get("detail")
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict):
            continue
        path = item.get("field")
        if path is None and "loc" in item:
            loc = [str(p) for p in item["loc"] if p not in ("body", "query", "path")]
            path = ".".join(loc)
        if path:
            found.setdefault(str(path), str(item.get("message") or item.get("msg") or "Invalid"))
    return found
