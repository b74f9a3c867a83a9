"""What a module host announces about its module (the registry's value).

The gateway routes from `base_url` and `public_prefixes`; the shell builds
navigation, the palette, dashboard widgets, admin pages, forms and grids
from the rest. Nothing in the core names a module in advance.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator


def owns(module: str, permission: str) -> bool:
    """A module declares only its own permissions, named `<module>.<action>`: never a
    wildcard, another module's or a kernel service's (which `default` would hand to everyone)."""
    return permission.startswith(f"{module}.") and "*" not in permission


class PermissionSpec(BaseModel):
    """A permission a kernel service or module declares: auth lists it to admins (grouped by
    `group`, with its description) and, when `default`, grants it to the `user` role the first
    time it is seen, so a newly registered person can use the module at once."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$", max_length=100)
    description: str = Field(default="", max_length=300)
    group: str = Field(default="", max_length=64)
    default: bool = False


class NavEntry(BaseModel):
    label: str
    path: str  # shell path, e.g. "/m/tasks"
    icon: str = "extension"
    permission: str | None = None
    order: int = 100


class PaletteCommand(BaseModel):
    id: str
    label: str
    keywords: list[str] = Field(default_factory=list)
    # "navigate": open `path` in the shell; "form": open the AutoForm of `collection`;
    # "api": call `method path` through the gateway.
    action: Literal["navigate", "form", "api"] = "navigate"
    path: str | None = None
    collection: str | None = None
    method: str = "POST"
    permission: str | None = None


class Widget(BaseModel):
    id: str
    title: str
    kind: Literal["stat", "list", "chart", "custom"] = "stat"
    endpoint: str  # gateway path returning the widget's data
    permission: str | None = None


class AdminPage(BaseModel):
    label: str
    path: str
    permission: str | None = None


class Collection(BaseModel):
    """A REST collection the shell can show as a DataExplorer and an AutoForm."""

    name: str
    label: str
    endpoint: str  # gateway path of the collection, e.g. "/api/tasks/tasks"
    model: str  # key into `ModuleManifest.models`
    create_model: str | None = None
    update_model: str | None = None
    permission_read: str | None = None
    permission_write: str | None = None
    trash: bool = True


class DataSourceEntry(BaseModel):
    """A data source the module's host serves to storage (`webos_common.files.remote`)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    capabilities: dict[str, Any] = Field(default_factory=dict)


class ModuleManifest(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,40}$")
    version: str = "0.1.0"
    description: str = ""
    instance_id: str
    base_url: str
    openapi_path: str = "/openapi.json"
    health_path: str = "/readyz"
    public_prefixes: list[str] = Field(default_factory=list)  # gateway paths open without sign-in
    routes: list[dict[str, Any]] = Field(default_factory=list)
    permissions: list[PermissionSpec] = Field(default_factory=list)
    nav: list[NavEntry] = Field(default_factory=list)
    commands: list[PaletteCommand] = Field(default_factory=list)
    widgets: list[Widget] = Field(default_factory=list)
    admin_pages: list[AdminPage] = Field(default_factory=list)
    collections: list[Collection] = Field(default_factory=list)
    settings_schema: dict[str, Any] | None = None
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)
    events_emitted: list[str] = Field(default_factory=list)
    events_consumed: list[str] = Field(default_factory=list)
    event_schemas: dict[str, dict[str, Any]] = Field(default_factory=dict)  # payload JSON Schema by emitted topic
    search_endpoint: str | None = None
    ui_components: list[str] = Field(default_factory=list)
    reads: list[str] = Field(default_factory=list)  # read grants: other modules' collections it reads
    data_sources: list[DataSourceEntry] = Field(default_factory=list)  # mounted by storage, served by the host
    sagas: list[str] = Field(default_factory=list)  # the sagas whose runs /api/<name>/admin/sagas serves
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("permissions", mode="before")
    @classmethod
    def _names_are_specs(cls, value: Any) -> Any:
        """A bare name (an older host's manifest) is a permission without a description."""
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value
