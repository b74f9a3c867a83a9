"""`CoreDocument` (audit fields, soft delete) and `OwnedDocument` (a row
belongs to one user; the repository scopes every query to them).

Collections carry the module's prefix (seed 004): a document of package
`webos_tasks` named `Task` lives in `tasks_tasks` unless its `Settings.name`
says otherwise, and a name without the prefix gets it.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from beanie import Document, PydanticObjectId
from beanie.odm.fields import ExpressionField
from bson import ObjectId
from pydantic import BaseModel, Field, GetCoreSchemaHandler
from pydantic_core import core_schema


def utcnow() -> datetime:
    return datetime.now(UTC)


_NOW = functools.partial(datetime.now, UTC)  # a C call: no Python frame per new document


def module_of(cls: type) -> str | None:
    """The module a document class belongs to: `webos_tasks.models` -> `tasks`."""
    declared: str | None = getattr(cls, "webos_module", None)
    if declared:
        return declared
    top = cls.__module__.split(".", 1)[0]
    if top.startswith("webos_") and "." in cls.__module__:
        return top[len("webos_"):]
    return None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def collection_name(cls: type) -> str:
    module = module_of(cls)
    own = cls.__dict__.get("Settings")
    name: str | None = getattr(own, "name", None) if own is not None else None
    if not name:
        base = _snake(cls.__name__)
        name = base if base.endswith("s") else f"{base}s"
    if module and not name.startswith(f"{module}_"):
        name = f"{module}_{name}"
    return name


class _FastObjectId:
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


def _restore_field_defaults(cls: type[BaseModel]) -> None:
    """Beanie's init leaves `ExpressionField`s as class attributes on the
    documents it initialises and their bases; pydantic then takes them for
    the defaults of a subclass created afterwards. Put the real ones back."""
    broken = [n for n, f in cls.__pydantic_fields__.items() if isinstance(f.default, ExpressionField)]
    for name in broken:
        for base in cls.__mro__[1:]:
            info = getattr(base, "__pydantic_fields__", {}).get(name)
            if info is not None and not isinstance(info.default, ExpressionField):
                cls.__pydantic_fields__[name] = copy.copy(info)
                break


class CoreDocument(Document):
    """Audit fields filled from the context user, and soft delete."""

    webos_module: ClassVar[str | None] = None

    id: Annotated[PydanticObjectId | None, _FastObjectId()] = Field(
        default=None, alias="_id", description="MongoDB document ObjectID")

    created_at: datetime = Field(default_factory=_NOW)
    created_by: str | None = None
    updated_at: datetime = Field(default_factory=_NOW)
    updated_by: str | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    version: int = 0  # each write adds one; the ETag, and what If-Match compares (0: written before versions)

    class Settings:
        use_state_management = False
        use_revision = False

    # Plain pydantic construction: Beanie's __init__ only re-checks that the
    # collection is initialised, and a custom __init__ makes pydantic route
    # every validation (every row read) through Python.
    __init__ = BaseModel.__init__

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _restore_field_defaults(cls)
        attrs: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            settings = klass.__dict__.get("Settings")
            if settings is not None:
                attrs.update({k: v for k, v in vars(settings).items() if not k.startswith("__")})
        attrs["name"] = collection_name(cls)
        cls.Settings = type("Settings", (), attrs)  # type: ignore[misc,assignment]
        # pydantic wraps model_post_init once per subclass level; one flat init instead.
        privates = cls.__private_attributes__.items()
        cls.__webos_private__ = (
            {name: attr.default for name, attr in privates if attr.default_factory is None},
            tuple((name, attr.default_factory) for name, attr in privates if attr.default_factory is not None))
        cls.model_post_init = _init_private
        # Rows are read by the thousand: no Python call per row. Beanie's back-link
        # walk goes (links here are by name), and private attributes are made on
        # first use (__getattr__/__setattr__ below) instead of after every validation.
        cls.__pydantic_decorators__.model_validators.pop("fill_back_refs", None)
        cls.__pydantic_post_init__ = None
        cls.model_rebuild(force=True)

    def __getattr__(self, name: str) -> Any:
        _ensure_private(self, name)
        return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        _ensure_private(self, name)
        super().__setattr__(name, value)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class OwnedDocument(CoreDocument):
    """A row that belongs to one user, who may share it (`shares`: `{kind: user|role, id,
    access: read|write}`) and assign it to people (`assignees`). Non-admins see only what
    they own or what is shared with or assigned to them (see `documents.sharing`)."""

    owner_id: str = ""  # indexed by the declared queries (`documents.queries`), each led by it
    shares: list[dict[str, str]] = Field(default_factory=list)
    assignees: list[str] = Field(default_factory=list)


OWNER_FIELD = "owner_id"
