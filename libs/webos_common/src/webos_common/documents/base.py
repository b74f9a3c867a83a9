"""`CoreDocument` (audit fields, soft delete) and `OwnedDocument` (a row
belongs to one user; the repository scopes every query to them).

Collections carry the module's prefix (seed 004): a document of package
`webos_tasks` named `Task` lives in `tasks_tasks` unless its `Settings.name`
says otherwise, and a name without the prefix gets it.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from beanie import PydanticObjectId
from pydantic import Field

from webos_common.compat.beanie import FastObjectId, LeanDocument


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


class CoreDocument(LeanDocument):
    """Audit fields filled from the context user, and soft delete."""

    webos_module: ClassVar[str | None] = None

    id: Annotated[PydanticObjectId | None, FastObjectId()] = Field(
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

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)  # LeanDocument's: no Python work per row
        attrs: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            settings = klass.__dict__.get("Settings")
            if settings is not None:
                attrs.update({k: v for k, v in vars(settings).items() if not k.startswith("__")})
        attrs["name"] = collection_name(cls)
        cls.Settings = type("Settings", (), attrs)  # type: ignore[misc,assignment]

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
