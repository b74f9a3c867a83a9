"""What a person reads for a schema's values (pure): an enum value's label
and a value shown as text, wherever the shell lists or previews records.

An enum value's label is its title in the schema — `oneOf: [{"const": "todo",
"title": "To do"}, …]` (JSON Schema's own way) or `x-enumNames` beside `enum`
(a list in the same order) — else the value made readable: `in_progress` →
"In progress"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webos_shell.schema_fields import FieldSpec


def humanise(value: Any) -> str:
    text = str(value).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def enum_of(schema: dict[str, Any]) -> tuple[list[Any], dict[str, str]] | None:
    """(values, value → label) of an enum schema (`enum`, or a `oneOf`/`anyOf` of `const`s); None otherwise."""
    for key in ("oneOf", "anyOf"):
        variants = [v for v in schema.get(key) or [] if isinstance(v, dict) and v.get("type") != "null"]
        if variants and all("const" in v for v in variants):
            return ([v["const"] for v in variants],
                    {str(v["const"]): str(v.get("title") or humanise(v["const"])) for v in variants})
    if "enum" not in schema:
        return None
    values = list(schema["enum"])
    names = schema.get("x-enumNames")
    shown = [v for v in values if v is not None]
    if isinstance(names, list) and len(names) == len(shown):
        return values, {str(v): str(n) for v, n in zip(shown, names, strict=True)}
    return values, {str(v): humanise(v) for v in shown}


def labels(spec: FieldSpec) -> dict[str, str]:
    """The labels of an enum field (or a list of enum values): the schema's, else readable values."""
    target = spec.item if spec.kind == "list" and spec.item is not None else spec
    return {str(v): target.labels.get(str(v)) or humanise(v) for v in target.options if v is not None}


def options(spec: FieldSpec) -> dict[Any, str]:
    """A select's options: value → label, in the schema's order."""
    shown = labels(spec)
    target = spec.item if spec.kind == "list" and spec.item is not None else spec
    return {v: shown[str(v)] for v in target.options if v is not None}
