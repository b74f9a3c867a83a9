"""Beanie and pydantic: documents read and written without Python work per row.

What a Beanie `Document` costs per row, and what this removes (`bench/README.md`
gives the figures with and without, against `bench/repository.py`'s goals):

* Beanie's `__init__` only re-checks that the collection is initialised, and a
  custom `__init__` makes pydantic route every validation through Python:
  `LeanDocument` uses pydantic's own (`BaseModel.__init__`);
* Beanie's `fill_back_refs` model validator (a Python call per row) walks
  back-links, which WebOS documents never declare (links are by name): dropped
  from each subclass's pydantic decorators;
* pydantic wraps `model_post_init` once per subclass level to set private
  attributes: they are made on first use instead (`__getattr__`/`__setattr__`);
* Beanie's `PydanticObjectId` re-parses a value that already is an ObjectId
  (`FastObjectId`);
* `set_id`/`stored`/`stamp`: the repository writes and reads a row's field
  values straight (`__dict__`, `__pydantic_fields_set__`), without pydantic's
  validate-on-assignment or serialisation of values BSON stores as they are.

`restore_field_defaults` is a fix, not a speed-up: Beanie's init leaves
`ExpressionField`s as class attributes, which pydantic then takes for the
defaults of a subclass created afterwards.
"""

from __future__ import annotations

import copy
from typing import Any

from beanie import Document, PydanticObjectId
from beanie.odm.fields import ExpressionField
from bson import ObjectId
from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema

from webos_common.compat import release_is

TESTED = {"beanie": "2.2", "pydantic": "2.14"}  # the releases whose internals this relies on
BACK_REFS = "fill_back_refs"  # Beanie's model validator dropped from every lean document


def applies() -> bool:
    return all(release_is(name, tested) for name, tested in TESTED.items())


class FastObjectId:
    """Beanie's id type, minus a re-parse when the value already is an ObjectId."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> Any:
            if type(value) is ObjectId or type(value) is PydanticObjectId:
                return value
            return PydanticObjectId._validate(value)  # type: ignore[no-untyped-call]

        return core_schema.json_or_python_schema(
            python_schema=core_schema.union_schema([
                core_schema.is_instance_schema(ObjectId),
                core_schema.no_info_plain_validator_function(validate),
            ], mode="left_to_right"),
            json_schema=core_schema.no_info_after_validator_function(
                validate, core_schema.str_schema(pattern="^[0-9a-f]{24}$")),
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="json"),
        )


def _init_private(self: BaseModel, context: Any, /) -> None:
    defaults, factories = type(self).__webos_private__  # type: ignore[attr-defined]
    private = defaults.copy()
    for name, factory in factories:
        private[name] = factory()
    object.__setattr__(self, "__pydantic_private__", private)


def _ensure_private(self: BaseModel, name: str) -> None:
    if name in type(self).__private_attributes__ and object.__getattribute__(self, "__pydantic_private__") is None:
        _init_private(self, None)


def restore_field_defaults(cls: type[BaseModel]) -> None:
    """Put back the defaults Beanie's `ExpressionField`s took the place of (see the module's docstring)."""
    broken = [n for n, f in cls.__pydantic_fields__.items() if isinstance(f.default, ExpressionField)]
    for name in broken:
        for base in cls.__mro__[1:]:
            info = getattr(base, "__pydantic_fields__", {}).get(name)
            if info is not None and not isinstance(info.default, ExpressionField):
                cls.__pydantic_fields__[name] = copy.copy(info)
                break


def _make_lean(cls: type[BaseModel]) -> None:
    privates = cls.__private_attributes__.items()
    cls.__webos_private__ = (  # type: ignore[attr-defined]
        {name: attr.default for name, attr in privates if attr.default_factory is None},
        tuple((name, attr.default_factory) for name, attr in privates if attr.default_factory is not None))
    cls.model_post_init = _init_private  # type: ignore[method-assign]
    cls.__pydantic_decorators__.model_validators.pop(BACK_REFS, None)
    cls.__pydantic_post_init__ = None
    cls.model_rebuild(force=True)


class LeanDocument(Document):
    """A Beanie `Document` validated by pydantic alone (on the tested releases; Beanie's own otherwise)."""

    if applies():
        __init__ = BaseModel.__init__

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        restore_field_defaults(cls)
        if applies():
            _make_lean(cls)

    def __getattr__(self, name: str) -> Any:
        _ensure_private(self, name)
        return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        _ensure_private(self, name)
        super().__setattr__(name, value)


def set_id(doc: BaseModel, new_id: ObjectId) -> None:
    """Set the id without Beanie's validate-on-assignment (the server made it)."""
    object.__getattribute__(doc, "__dict__")["id"] = new_id
    object.__getattribute__(doc, "__pydantic_fields_set__").add("id")


def stored(doc: BaseModel) -> dict[str, Any]:
    """A copy of the document's validated values (for a model whose values BSON stores as they are)."""
    return dict(object.__getattribute__(doc, "__dict__"))


def stamp(doc: BaseModel, values: dict[str, Any]) -> None:
    """Set fields the repository computed (audit fields), without validate-on-assignment."""
    object.__getattribute__(doc, "__dict__").update(values)
