"""The admin panel: admin only, by menu and by URL. Each page is its own module.
Modules' `admin_pages` join the tabs (`module_pages`, served on `/admin/m/<module>`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from webos_common.identity import User
from webos_common.modules.manifest import AdminPage, ModuleManifest
from webos_shell import layout, runtime, session

Render = Callable[[User], Awaitable[None]]

PAGES: list[tuple[str, str]] = [
    ("/admin", "Admin dashboard"), ("/admin/users", "Users"), ("/admin/roles", "Roles"),
    ("/admin/record-rules", "Record rules"), ("/admin/audit", "Audit trail"), ("/admin/modules", "Modules"),
    ("/admin/settings", "Settings"), ("/admin/apps", "Apps"), ("/admin/logs", "Live logs"),
    ("/admin/events", "Events and dead letters"), ("/admin/sagas", "Sagas"),
]


def allowed(user: User, page: AdminPage) -> bool:
    """The admin panel is for admins; a page's own permission narrows it further."""
    return user.is_admin and (page.permission is None or user.has_permission(page.permission))


def visible_pages(user: User, manifests: list[ModuleManifest]) -> list[tuple[str, AdminPage]]:
    """(module, page) for every admin page of these modules this person may open, by module."""
    return [(m.name, page) for m in manifests for page in m.admin_pages if allowed(user, page)]


def tabs(user: User) -> None:
    """The panel's own pages, then every live module's admin pages this person may open."""
    registry = runtime.get().registry
    extra = visible_pages(user, registry.modules() if registry else [])
    with ui.row().classes("gap-1 items-center").props('data-testid="admin-tabs"'):
        for path, label in PAGES:
            ui.button(label, on_click=lambda p=path: ui.navigate.to(p)).props("flat dense no-caps")
        if extra:
            ui.separator().props("vertical")
        for module, page in extra:
            ui.button(page.label, icon="extension", on_click=lambda p=page.path: ui.navigate.to(p)).props(
                f'flat dense no-caps data-testid="admin-module-page" data-module="{module}"')


async def require_admin(here: str, request: Request) -> User | RedirectResponse | None:
    """The signed-in admin; else the sign-in redirect, or None once the refusal is drawn."""
    user = await session.require(here, request)
    if isinstance(user, RedirectResponse):
        return user
    if not user.is_admin:
        await layout.refused(user, "the admin panel")
        return None
    return user


def admin_page(path: str, title: str, render: Render) -> None:
    @ui.page(path)
    async def page(request: Request) -> RedirectResponse | None:
        user = await require_admin(path, request)
        if not isinstance(user, User):
            return user
        async with layout.frame(user, title):
            tabs(user)
            await render(user)
        return None


def register() -> None:
    from webos_shell.admin import (
        audit,
        dashboard,
        events,
        logs,
        module_pages,
        modules,
        oauth_clients,
        record_rules,
        roles,
        sagas,
        settings_editor,
        users,
    )

    renders: dict[str, Render] = {
        "/admin": dashboard.render, "/admin/users": users.render, "/admin/roles": roles.render,
        "/admin/record-rules": record_rules.render, "/admin/audit": audit.render, "/admin/modules": modules.render,
        "/admin/settings": settings_editor.render,
        "/admin/apps": oauth_clients.render, "/admin/logs": logs.render, "/admin/events": events.render,
        "/admin/sagas": sagas.render,
    }
    for path, title in PAGES:
        admin_page(path, title, renders[path])
    module_pages.register()
