"""The admin panel: admin only, by menu and by URL. Each page is its own module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from webos_common.identity import User
from webos_shell import layout, session

Render = Callable[[User], Awaitable[None]]

PAGES: list[tuple[str, str]] = [
    ("/admin", "Admin dashboard"), ("/admin/users", "Users and roles"), ("/admin/modules", "Modules"),
    ("/admin/settings", "Settings"), ("/admin/logs", "Live logs"), ("/admin/events", "Events and dead letters"),
]


def _tabs() -> None:
    with ui.row().classes("gap-1").props('data-testid="admin-tabs"'):
        for path, label in PAGES:
            ui.button(label, on_click=lambda p=path: ui.navigate.to(p)).props("flat dense no-caps")


def admin_page(path: str, title: str, render: Render) -> None:
    @ui.page(path)
    async def page(request: Request) -> RedirectResponse | None:
        user = await session.require(path, request)
        if isinstance(user, RedirectResponse):
            return user
        if not user.is_admin:
            await layout.refused(user, "the admin panel")
            return None
        async with layout.frame(user, title):
            _tabs()
            await render(user)
        return None


def register() -> None:
    from webos_shell.admin import dashboard, events, logs, modules, settings_editor, users

    renders: dict[str, Render] = {
        "/admin": dashboard.render, "/admin/users": users.render, "/admin/modules": modules.render,
        "/admin/settings": settings_editor.render, "/admin/logs": logs.render, "/admin/events": events.render,
    }
    for path, title in PAGES:
        admin_page(path, title, renders[path])
