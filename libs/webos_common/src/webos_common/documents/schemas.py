"""Schema separation (seed 002 §12.1): the document `X` is the database
shape; `XCreate` and `XUpdate` validate input; `XRead` is what the API
returns. These bases carry what every read schema shares."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _to_str(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, str) else value


IdStr = Annotated[str, BeforeValidator(_to_str)]


class CreateModel(BaseModel):
    """Input for a new row: unknown fields are refused (422 names them)."""

    model_config = ConfigDict(extra="forbid")


class UpdateModel(BaseModel):
    """A partial change: only the fields sent are applied."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: IdStr
    created_at: datetime
    created_by: str | None = None
    updated_at: datetime
    updated_by: str | None = None
    deleted_at: datetime | None = None


class OwnedReadModel(ReadModel):
    owner_id: str
    shares: list[dict[str, str]] = []
    assignees: list[str] = []
