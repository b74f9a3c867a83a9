"""Schema separation (seed 002 §12.1): the document `X` is the database
shape; `XCreate` and `XUpdate` validate input; `XRead` is what the API
returns. These bases carry what every read schema shares."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator


def _to_str(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, str) else value


IdStr = Annotated[str, BeforeValidator(_to_str)]


class CreateModel(BaseModel):
    """Input for a new row: unknown fields are refused (422 names them)."""

    model_config = ConfigDict(extra="forbid")


class UpdateModel(BaseModel):
    """A partial change: only the fields sent are applied. `null` clears only the
    fields named in `clearable`; elsewhere it is a 422 naming the field."""

    model_config = ConfigDict(extra="forbid")
    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may not be null (leave the field out to keep its value)")
        return value


U = TypeVar("U", bound=UpdateModel)
BULK_MAX_IDS = 500  # rows one bulk request may change (a client changes more in groups of this size)


class BulkChanges(CreateModel, Generic[U]):
    """`PATCH <endpoint>/bulk`: one change (the collection's update schema) on many rows, in one
    request; with `versions` (id -> version) on every row or none (412). The shell's bulk edit
    sends it for any field of the update schema.

        @router.patch("/items/bulk")
        async def bulk_update(body: BulkChanges[ItemUpdate], service: Service) -> dict[str, int]:
            return {"modified": await service.bulk_update(body.ids, body.changes, versions=body.versions)}
    """

    ids: list[str] = Field(min_length=1, max_length=BULK_MAX_IDS)
    changes: U
    versions: dict[str, int] | None = None

    @field_validator("changes")
    @classmethod
    def _names_a_field(cls, value: UpdateModel) -> UpdateModel:
        if not value.model_fields_set:
            raise ValueError("name at least one field to change")
        return value


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: IdStr
    created_at: datetime
    created_by: str | None = None
    updated_at: datetime
    updated_by: str | None = None
    deleted_at: datetime | None = None
    version: int = 0


class OwnedReadModel(ReadModel):
    owner_id: str
    shares: list[dict[str, str]] = []
    assignees: list[str] = []
