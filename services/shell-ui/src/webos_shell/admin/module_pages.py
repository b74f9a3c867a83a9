"""Modules' own admin pages: the `admin_pages` of every live module's manifest
become admin tabs, and `/admin/m/<module>[/<sub-path>]` shows them.

That page draws the module's shell component named `admin` (from
`ui_components`) when it ships one; otherwise a generic view: one card per
GET route of the module's admin API (`/api/<module>/admin/...`, no path
parameters), its JSON answer as a key/value table, called through the
gateway as the signed-in person. An error answer is shown in its card."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_common.modules.manifest import AdminPage, ModuleManifest
from webos_shell import a11y, components, layout, runtime
from webos_shell.admin import allowed, require_admin, tabs
from webos_shell.choices import humanise

COMPONENT = "admin"  # the `ui_components` name a module's own admin view goes by


# -- pure parts ---------------------------------------------------------------
def page_for(manifest: ModuleManifest, path: str) -> AdminPage | None:
    """The announced page a shell path belongs to: the same path, else the longest one it is under."""
    path = path.rstrip("/") or "/"
    matches = [p for p in manifest.admin_pages
               if path == p.path.rstrip("/") or path.startswith(p.path.rstrip("/") + "/")]
    return max(matches, key=lambda p: len(p.path.rstrip("/")), default=None)


def admin_routes(manifest: ModuleManifest, sub: str | None = None) -> list[str]:
    """The module's admin API GET routes without path parameters, in manifest order;
    with `sub`, only those at or under `/api/<module>/admin/<sub>`."""
    prefix = f"/api/{manifest.name}/admin/"
    narrowed = prefix + sub.strip("/") if sub and sub.strip("/") else None
    found: list[str] = []
    for route in manifest.routes:
        path = str(route.get("path", ""))
        methods = {str(m).upper() for m in route.get("methods", [])}
        if not path.startswith(prefix) or "{" in path or "GET" not in methods or path in found:
            continue
        if narrowed and not (path.rstrip("/") == narrowed or path.startswith(narrowed + "/")):
            continue
        found.append(path)
    return found


def route_title(manifest: ModuleManifest, path: str) -> str:
    """`/api/tasks/admin/stats` → "Stats"; `…/admin/queue/depth` → "Queue depth"."""
    rest = path.removeprefix(f"/api/{manifest.name}/admin/").strip("/")
    words = rest.replace("/", " ").replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "Admin"


def table_rows(body: Any) -> list[dict[str, str]] | None:
    """A dict answer as rows a person reads (field names in words, no JSON); None for anything else."""
    if not isinstance(body, dict):
        return None
    return [{"key": humanise(key), "value": _readable(value)} for key, value in body.items()]


def _readable(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_readable(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{humanise(k)}: {_readable(v)}" for k, v in value.items()) or "—"
    return str(value)


# -- the page -----------------------------------------------------------------
async def _fetch(path: str) -> Any:
    try:
        return await runtime.get().gateway.get(app.storage.user, path)
    except ApiError as exc:
        return exc
    except (httpx.HTTPError, OSError) as exc:  # the gateway away: this card fails, never the page
        return ApiError(502, {"detail": f"the gateway could not be reached ({type(exc).__name__})"})


def _card(manifest: ModuleManifest, path: str, body: Any) -> None:
    name = path.rsplit("/", 1)[-1] or "admin"
    with ui.card().classes("w-full max-w-3xl").props(f'data-testid="admin-api-{name}"'):
        a11y.heading(route_title(manifest, path))
        ui.label(f"GET {path}").classes("text-xs text-gray-500 font-mono")
        if isinstance(body, ApiError):
            ui.label(f"{body.message} (HTTP {body.status})").classes("text-negative").props(
                'data-testid="admin-api-error"')
            return
        rows = table_rows(body)
        if rows is None:
            ui.code(json.dumps(body, indent=2, default=str), language="json").classes("w-full")
        elif not rows:
            ui.label("(empty)").classes("text-gray-500")
        else:
            columns = [{"name": "key", "label": "Field", "field": "key", "align": "left"},
                       {"name": "value", "label": "Value", "field": "value", "align": "left"}]
            ui.table(columns=columns, rows=rows, row_key="key").props(
                'flat dense hide-bottom data-testid="admin-api-table"').classes("w-full")


async def _generic(manifest: ModuleManifest, sub: str | None) -> None:
    paths = admin_routes(manifest, sub)
    if not paths:
        ui.label(f"The {manifest.name} module has no admin view.").classes("text-gray-500").props(
            'data-testid="admin-module-empty"')
        return
    answers = await asyncio.gather(*(_fetch(path) for path in paths))
    with ui.column().classes("w-full gap-4").props('data-testid="admin-module-generic"'):
        for path, body in zip(paths, answers, strict=True):
            _card(manifest, path, body)


async def module_admin(request: Request, module: str, rest: str | None = None) -> RedirectResponse | None:
    here = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    user = await require_admin(here, request)
    if not isinstance(user, User):
        return user
    rt = runtime.get()
    manifest = rt.registry.manifest(module) if rt.registry and rt.registry.is_enabled(module) else None
    page = page_for(manifest, str(request.url.path)) if manifest else None
    if page is not None and not allowed(user, page):
        await layout.refused(user, page.label)
        return None
    async with layout.frame(user, page.label if page else f"{module.capitalize()} admin"):
        tabs(user)
        if manifest is None:
            ui.label(f"The module {module!r} is not available.").classes("text-negative").props(
                'data-testid="module-missing"')
            return None
        view = components.views(manifest.ui_components, user).get(COMPONENT)
        if view is not None:
            params = dict(request.query_params)
            if rest:
                params.setdefault("subpath", rest)
            if await components.render(view, None, user, params, manifest):
                return None
            ui.label(f"The {module} module's admin view could not be loaded.").classes("text-negative")
        await _generic(manifest, rest)
    return None


def register() -> None:
    @ui.page("/admin/m/{module}")
    async def module_admin_home(request: Request, module: str) -> RedirectResponse | None:
        return await module_admin(request, module)

    @ui.page("/admin/m/{module}/{rest:path}")
    async def module_admin_sub(request: Request, module: str, rest: str) -> RedirectResponse | None:
        return await module_admin(request, module, rest)
