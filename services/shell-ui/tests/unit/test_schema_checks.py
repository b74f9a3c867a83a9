"""Form checks by jsonschema: each bad input is told at its field, in words a person reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from webos_shell.schema_checks import validate
from webos_shell.schema_fields import fields_from_schema


class Place(BaseModel):
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]


class Order(BaseModel):
    name: Annotated[str, Field(min_length=2, max_length=20)]
    quantity: Annotated[int, Field(ge=1, le=99)] = 1
    weight: Annotated[float, Field(gt=0)] = 1.0
    pack_of: Annotated[int, Field(multiple_of=5)] = 5
    labels: Annotated[list[Annotated[str, Field(max_length=3)]], Field(max_length=2)] = []
    at: datetime | None = None
    place: Place | None = None


SPECS = fields_from_schema(Order.model_json_schema())


def test_numbers_typed_as_text_are_read_before_the_schema_checks_them() -> None:
    assert validate(SPECS, {"name": "ok", "quantity": "many"}) == {"quantity": "Enter a number"}
    assert validate(SPECS, {"name": "ok", "quantity": "2.5"}) == {"quantity": "Enter a whole number"}
    assert validate(SPECS, {"name": "ok", "quantity": "0", "weight": "0"}) == {
        "quantity": "Must be at least 1", "weight": "Must be more than 0"}
    assert validate(SPECS, {"name": "ok", "quantity": "12", "weight": "0.5"}) == {}


def test_text_lists_dates_and_nested_fields_name_their_field() -> None:
    errors = validate(SPECS, {"name": "x" * 21, "labels": ["abcd", "b", "c"], "at": "soon",
                              "place": {"zip": "12"}})
    assert errors == {"name": "At most 20 characters", "labels": "At most 2 items",
                      "labels.0": "At most 3 characters", "at": "Enter a date and time",
                      "place.zip": "Not in the expected format"}
    assert validate(SPECS, {"name": "ok", "at": "2026-12-01T10:00", "place": {"zip": "12345"}}) == {}


def test_a_rule_the_form_has_no_words_for_is_still_checked() -> None:
    assert validate(SPECS, {"name": "ok", "pack_of": 7}) == {"pack_of": "7 is not a multiple of 5"}
