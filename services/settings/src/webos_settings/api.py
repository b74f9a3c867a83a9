"""The HTTP API (the gateway serves it under `/api/settings`)."""


from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from webos_common.http.errors import Forbidden, NotFound, PayloadTooLarge, Unavailable
from webos_common.http.paging import Skip
from webos_common.identity import User
from webos_common.security import CurrentUser, area_permission
from webos_settings import as_code
from webos_settings.domain.builtin import CORE_MODULES, SYSTEM_SECTIONS
from webos_settings.domain.scope import ADMIN, Scope
from webos_settings.service import SettingsService

MAX_APPLY_BYTES = 1 << 20
Values = Annotated[dict[str, Any], Body(description="setting values (PUT replaces, PATCH merges: JSON merge patch)")]


async def get_service(request: Request) -> SettingsService:
    service: SettingsService = request.app.state.settings_service
    return service


Service = Annotated[SettingsService, Depends(get_service)]


class SchemaIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_: dict[str, Any] = Field(alias="schema")
    user_schema: dict[str, Any] | None = None


class RollbackIn(BaseModel):
    version: int


router = APIRouter(tags=["settings"], dependencies=[area_permission("settings")])


def _add_scope_routes(path: str, scope_of: Callable[..., Awaitable[Scope]]) -> None:
    ScopeDep = Annotated[Scope, Depends(scope_of)]

    async def read(scope: ScopeDep, user: CurrentUser, service: Service, reveal: bool = False) -> dict[str, Any]:
        return await service.read(scope, user=user, reveal=reveal)

    async def replace(scope: ScopeDep, values: Values, user: CurrentUser, service: Service,
                      expected_version: int | None = None) -> dict[str, Any]:
        return await service.write(scope, values, user=user, expected_version=expected_version)

    async def patch(scope: ScopeDep, values: Values, user: CurrentUser, service: Service,
                    expected_version: int | None = None) -> dict[str, Any]:
        return await service.write(scope, values, user=user, merge=True, expected_version=expected_version)

    async def history(scope: ScopeDep, user: CurrentUser, service: Service,
                      skip: Skip = 0,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
        return await service.history(scope, user=user, skip=skip, limit=limit)

    async def rollback(scope: ScopeDep, body: RollbackIn, user: CurrentUser, service: Service) -> dict[str, Any]:
        return await service.rollback(scope, body.version, user=user)

    router.add_api_route(path, read, methods=["GET"])
    router.add_api_route(path, replace, methods=["PUT"])
    router.add_api_route(path, patch, methods=["PATCH"])
    router.add_api_route(f"{path}/history", history, methods=["GET"])
    router.add_api_route(f"{path}/rollback", rollback, methods=["POST"])


async def _system(section: str) -> Scope:
    return Scope("system", section)


async def _module(module: str) -> Scope:
    return Scope("module", module)


async def _user(user_id: str, module: str) -> Scope:
    return Scope("user", module, user_id)


async def _me(module: str, user: CurrentUser) -> Scope:
    return Scope("user", module, user.id)


_add_scope_routes("/system/{section}", _system)
_add_scope_routes("/modules/{module}", _module)
_add_scope_routes("/users/{user_id}/{module}", _user)
_add_scope_routes("/me/{module}", _me)


class EnabledIn(BaseModel):
    enabled: bool


@router.put("/modules/{module}/enabled")
async def set_module_enabled(module: str, body: EnabledIn, request: Request, user: CurrentUser) -> dict[str, Any]:
    """Switch a module on or off for the whole platform (the registry's `enabled.<module>` flag,
    which only this service may write on NATS): the gateway stops routing to a disabled module
    and the shell hides it. Needs `settings.admin`."""
    Scope("module", module)  # a valid module name, or 422 naming it
    if not user.has_permission(ADMIN):
        raise Forbidden(f"Switching a module needs {ADMIN!r}")
    registry = getattr(request.app.state, "module_registry", None)
    if registry is None:
        raise Unavailable("the module registry is unavailable")
    await registry.set_enabled(module, body.enabled)
    logger.info("module {} {} by {}", module, "enabled" if body.enabled else "disabled", user.id)
    return {"module": module, "enabled": body.enabled}


@router.get("/schemas")
async def list_schemas(user: CurrentUser, service: Service) -> dict[str, Any]:
    registered = {d["_id"]: {"schema": d["schema"], "user_schema": d.get("user_schema"), "source": d["source"]}
                  for d in await service.store.list_schemas()}
    modules = {**{m: {**doc, "source": "core"} for m, doc in CORE_MODULES.items()}, **registered}
    system = SYSTEM_SECTIONS if user.has_permission(ADMIN) else {}
    return {"system": system, "modules": modules}


@router.get("/schemas/{module}")
async def get_schema(module: str, user: CurrentUser, service: Service) -> dict[str, Any]:
    Scope("module", module)
    doc = await service.module_schemas(module)
    if doc is None:
        raise NotFound(f"No settings schema registered for module {module!r}")
    return {"module": module, "schema": doc["schema"], "user_schema": doc.get("user_schema"),
            "source": doc.get("source")}


@router.put("/schemas/{module}")
async def put_schema(module: str, body: SchemaIn, user: CurrentUser, service: Service) -> dict[str, Any]:
    changed = await service.register_schema(module, body.schema_, body.user_schema, user=user)
    return {"module": module, "changed": changed}


@router.get("/export", response_class=PlainTextResponse)
async def export_yaml(user: CurrentUser, service: Service, module: str | None = None, reveal: bool = False,
                      users: bool = True) -> PlainTextResponse:
    if module is not None:
        Scope("module", module)
    doc = await as_code.export(service, user=user, module=module, reveal=reveal, users=users)
    return PlainTextResponse(as_code.to_yaml(doc), media_type="application/yaml")


@router.post("/apply")
async def apply_yaml(request: Request, user: CurrentUser, service: Service, dry_run: bool = True) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_APPLY_BYTES:
        raise PayloadTooLarge(f"A settings file may be at most {MAX_APPLY_BYTES} bytes")
    return await as_code.apply(service, as_code.parse_yaml(raw), user=user, dry_run=dry_run)


@router.post("/admin/rotate-key")
async def rotate_key(user: CurrentUser, service: Service) -> dict[str, Any]:
    _require_admin(user)
    return {"reencrypted": await service.rotate_keys(), "key_id": service.keyring.current_kid}


def _require_admin(user: User) -> None:
    if not user.has_permission(ADMIN):
        raise Forbidden(f"Rotating the key needs {ADMIN!r}")
