"""The dashboard: every permitted module widget, background tasks, and
whatever is registered in the `dashboard` slot."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_common.modules.manifest import Widget
from webos_shell import a11y, components, layout, permissions, progress, runtime, session, slots
from webos_shell.pages import first_day


def _widget(widget: Widget) -> None:
    """The card now; its data fills in once fetched, so no widget holds the page up."""
    with ui.card().classes("w-72 min-h-32").props(f'data-testid="widget-{widget.id}"') as card:
        ui.label(widget.title).classes("text-sm text-gray-500")
        ui.skeleton().classes("w-full h-12")

    async def fill() -> None:
        try:
            data: Any = await runtime.get().gateway.get(app.storage.user, widget.endpoint)
            failure: ApiError | OSError | None
        except (ApiError, OSError) as exc:
            data, failure = None, exc
        else:
            failure = None
        card.clear()
        with card:
            ui.label(widget.title).classes("text-sm text-gray-500")
            if failure is not None:
                ui.label(f"unavailable: {failure}").classes("text-xs text-negative")
            else:
                _content(widget, data)

    ui.timer(0.01, fill, once=True)


def _content(widget: Widget, data: Any) -> None:
    if widget.kind == "stat":
        value = data.get("value", data) if isinstance(data, dict) else data
        ui.label(str(value)).classes("text-3xl font-semibold")
    elif widget.kind == "chart":
        ui.plotly(data if isinstance(data, dict) and "data" in data else _bars(data)).classes("w-full h-48")
    elif widget.kind == "list":
        numbers = {k: v for k, v in data.items() if isinstance(v, int | float)} if isinstance(data, dict) else {}
        if numbers:
            ui.label(" · ".join(f"{k} {v}" for k, v in numbers.items())).classes("text-lg font-medium")
        for item in (data.get("items", []) if isinstance(data, dict) else data)[:8]:
            ui.label(str(item.get("label") or item.get("title") or item) if isinstance(item, dict) else str(item))
    else:
        ui.json_editor({"content": {"json": data}}).props("read-only")


def _bars(data: Any) -> dict[str, Any]:
    points = data if isinstance(data, dict) else {}
    return {"data": [{"type": "bar", "x": list(points), "y": list(points.values())}],
            "layout": {"margin": {"l": 30, "r": 10, "t": 10, "b": 30}}}


async def render(user: User) -> None:
    rt = runtime.get()
    async with layout.frame(user, "Dashboard"):
        ui.label(f"Welcome, {user.username or user.id}").classes("text-lg").props('data-testid="welcome"')
        await first_day.panel(user)
        with ui.row().classes("w-full gap-4").props('data-testid="widgets"'):
            for _, widget in permissions.widgets(user, rt.registry.modules() if rt.registry else []):
                _widget(widget)
            slots.render("dashboard", user)
            await components.render_slot("dashboard", user)
        a11y.heading("Background tasks")
        progress.panel(user)


def register() -> None:
    @ui.page("/")
    async def home(request: Request) -> RedirectResponse | None:
        user = await session.require("/", request)
        if isinstance(user, RedirectResponse):
            return user
        await render(user)
        return None

    @ui.page("/notifications")
    async def notifications_page(request: Request) -> RedirectResponse | None:
        from webos_shell import notifications

        user = await session.require("/notifications", request)
        if isinstance(user, RedirectResponse):
            return user
        async with layout.frame(user, "Notifications"):
            await notifications.centre()
        return None
