"""A form's values checked against the schema before they are sent, by the `jsonschema` library
(the validator the settings service uses too): each field's value against its own JSON Schema
(`FieldSpec.schema`), each problem said the way a person reads it, at the field it concerns
("address.zip", "tags.0"). Pure: tests need no browser.

What stays here is only what a form adds to JSON Schema: an empty input is a value left out
("Required" when the field must be given), and a number typed as text is read as one first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from webos_common.files.afs import looks_like_urn
from webos_shell.schema_fields import FieldSpec, blank


def _date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


def _datetime(value: object) -> bool:  # what the picker writes ("2026-12-01T10:00") as well as RFC 3339
    return not isinstance(value, str) or bool(datetime.fromisoformat(value))


def _urn(value: object) -> bool:
    return not isinstance(value, str) or looks_like_urn(value)


FORMATS = FormatChecker(formats=())  # only the formats below; the others (password, user-id…) are hints
FORMATS.checkers.update({"date": (_date, ValueError), "date-time": (_datetime, ValueError), "fs-urn": (_urn, ())})


FORMAT_MESSAGES = {"date": "Enter a date as YYYY-MM-DD", "date-time": "Enter a date and time",
                   "fs-urn": "Pick a file (an fs:// address)"}
TYPE_MESSAGES = {"integer": "Enter a whole number", "number": "Enter a number", "string": "Enter text",
                 "boolean": "Choose yes or no", "array": "Enter a list", "object": "Fill in its fields"}


def message(error: ValidationError) -> str:
    """What a person is told for one of jsonschema's errors."""
    rule, limit = error.validator, error.validator_value
    said: Callable[[], str] | None = {
        "minimum": lambda: f"Must be at least {limit:g}", "maximum": lambda: f"Must be at most {limit:g}",
        "exclusiveMinimum": lambda: f"Must be more than {limit:g}",
        "exclusiveMaximum": lambda: f"Must be less than {limit:g}",
        "minLength": lambda: f"At least {limit} characters", "maxLength": lambda: f"At most {limit} characters",
        "minItems": lambda: f"At least {limit} items", "maxItems": lambda: f"At most {limit} items",
        "enum": lambda: "Choose one of: " + ", ".join(map(str, limit)), "const": lambda: f"Choose one of: {limit}",
        "pattern": lambda: "Not in the expected format", "required": lambda: "Required",
        "format": lambda: FORMAT_MESSAGES.get(str(limit), "Not in the expected format"),
        "type": lambda: TYPE_MESSAGES.get(str(limit), f"Must be {limit}"),
    }.get(str(rule))
    return said() if said else error.message


def _where(path: str, error: ValidationError) -> str:
    parts = [path, *map(str, error.absolute_path)]
    if error.validator == "required" and isinstance(error.instance, dict):
        parts += [name for name in error.validator_value if name not in error.instance][:1]
    return ".".join(parts)


def _number(spec: FieldSpec, value: Any) -> Any:
    """A number typed as text, read as one (ValueError when it is none)."""
    if spec.kind not in ("integer", "number") or isinstance(value, bool):
        return value
    number = float(value)
    return int(number) if spec.kind == "integer" and number.is_integer() else number


def _read(spec: FieldSpec, value: Any) -> tuple[Any, dict[str, str]]:
    """The form's value as JSON, or the fields whose text is not a number."""
    try:
        if spec.kind == "list" and spec.item is not None and isinstance(value, list):
            return [_number(spec.item, item) for item in value], {}
        return _number(spec, value), {}
    except (TypeError, ValueError):
        pass
    if spec.kind != "list" or spec.item is None:
        return value, {spec.path: "Enter a number"}
    bad = {}
    for index, item in enumerate(value):
        try:
            _number(spec.item, item)
        except (TypeError, ValueError):
            bad[f"{spec.path}.{index}"] = "Enter a number"
    return value, bad


def validate(specs: list[FieldSpec], values: dict[str, Any]) -> dict[str, str]:
    """Field path → message for every value that the schema refuses."""
    errors: dict[str, str] = {}
    for spec in specs:
        value: Any = values.get(spec.name)
        if blank(value):
            if spec.required and not spec.nullable and spec.default is None and spec.kind != "boolean":
                errors[spec.path] = "Required"
            continue
        if spec.kind == "object":
            errors.update(validate(spec.children, value if isinstance(value, dict) else {}))
            continue
        value, unreadable = _read(spec, value)
        if unreadable:
            errors.update(unreadable)
            continue
        for error in Draft202012Validator(spec.schema, format_checker=FORMATS).iter_errors(value):
            errors.setdefault(_where(spec.path, error), message(error))
    return errors
