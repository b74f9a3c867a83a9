"""JSON Schema handling: which fields are secret, defaults, validation, diffs.

A field is **secret** when its schema says `"writeOnly": true`,
`"format": "password"` or `"x-secret": true`. Pydantic's `SecretStr` emits
the first two, so a module marks a secret simply by typing it `SecretStr`.
Secrets may sit anywhere: nested models, `dict[str, SecretStr]`
(additionalProperties), lists, `SecretStr | None` (anyOf).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from webos_common.http.errors import ValidationFailed

MASK = "********"


def is_secret_schema(schema: dict[str, Any]) -> bool:
    return bool(schema.get("writeOnly") or schema.get("format") == "password" or schema.get("x-secret"))


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = str(schema["$ref"])
        node: Any = root
        for part in ref.removeprefix("#/").split("/") if ref.startswith("#/") else []:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}} if isinstance(node, dict) else {}
        seen += 1
    return schema


def map_secrets(schema: dict[str, Any], value: Any, fn: Callable[[Any, tuple[str, ...]], Any],
                root: dict[str, Any] | None = None, path: tuple[str, ...] = ()) -> Any:
    """`value` with `fn(leaf, path)` applied to every non-null secret leaf."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if value is None:
        return None
    if is_secret_schema(schema):
        return fn(value, path)
    for key in ("anyOf", "oneOf", "allOf"):
        branches = [_resolve(b, root) for b in schema.get(key, [])]
        if any(is_secret_schema(b) for b in branches):
            return fn(value, path)
        for branch in branches:
            if _fits(branch, value):
                return map_secrets(branch, value, fn, root, path)
    if isinstance(value, dict):
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        out = {}
        for k, v in value.items():
            sub = props.get(k, extra if isinstance(extra, dict) else None)
            out[k] = map_secrets(sub, v, fn, root, (*path, k)) if isinstance(sub, dict) else v
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [map_secrets(schema["items"], v, fn, root, (*path, str(i))) for i, v in enumerate(value)]
    return value


def _fits(branch: dict[str, Any], value: Any) -> bool:
    kind = branch.get("type")
    if isinstance(value, dict):
        return kind == "object" or "properties" in branch or "additionalProperties" in branch
    if isinstance(value, list):
        return kind == "array" or "items" in branch
    return False


def mask(schema: dict[str, Any], value: Any) -> Any:
    return map_secrets(schema, value, lambda _v, _p: MASK)


def defaults(schema: dict[str, Any]) -> dict[str, Any]:
    props = _resolve(schema, schema).get("properties", {})
    return {k: copy.deepcopy(p["default"]) for k, p in props.items() if isinstance(p, dict) and "default" in p}


def check_schema(schema: Any, *, field: str = "schema") -> dict[str, Any]:
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise ValidationFailed("A settings schema must be a JSON Schema of an object",
                               details=[{"field": field, "message": "expected an object schema"}])
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValidationFailed(f"Invalid JSON Schema: {exc.message}",
                               details=[{"field": field, "message": exc.message}]) from exc
    return schema


def validate(schema: dict[str, Any], values: dict[str, Any]) -> None:
    """Raise a 422 naming every bad field; unknown top-level keys are refused too
    unless the schema allows additional properties explicitly."""
    problems: list[dict[str, Any]] = []
    root = _resolve(schema, schema)
    if "properties" in root and "additionalProperties" not in root:
        problems += [{"field": k, "message": "unknown setting", "type": "unknown"}
                     for k in values if k not in root["properties"]]
    for error in Draft202012Validator(schema).iter_errors(values):
        parts = [str(p) for p in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [r for r in error.validator_value if r not in error.instance]
            parts += missing[:1]
        message = error.message if not _secret_at(schema, parts) else "invalid secret value"
        problems.append({"field": ".".join(parts) or "values", "message": message, "type": error.validator})
    if problems:
        names = ", ".join(dict.fromkeys(p["field"] for p in problems))
        raise ValidationFailed(f"Invalid settings: {names}", details=problems)


def _secret_at(schema: dict[str, Any], parts: list[str]) -> bool:
    hit: list[bool] = []
    probe: Any = "x"
    for part in reversed(parts):
        probe = [probe] if part.isdigit() else {part: probe}

    def note(value: Any, path: tuple[str, ...]) -> Any:
        hit.append(list(path) == parts)
        return value

    map_secrets(schema, probe, note)
    return any(hit)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` removes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in value.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def diff(schema: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Changed keys (dotted) as `{key, old, new}`, secrets masked; `None` for absent."""
    clear_old, clear_new = flatten(old), flatten(new)
    shown_old, shown_new = flatten(mask(schema, old)), flatten(mask(schema, new))
    return [{"key": k, "old": shown_old.get(k), "new": shown_new.get(k)}
            for k in sorted(clear_old.keys() | clear_new.keys()) if clear_old.get(k) != clear_new.get(k)]
