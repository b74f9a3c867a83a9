"""Module pages: `/m/<module>` (its first collection) and
`/m/<module>/<view>` (a collection by name, or one of its `ui_components`).
Query parameters become the explorer's filters (`?status=todo`).

`/m/<module>` opens the view the module's `default_view` setting names, as in
force for the person (their own choice over the module's): a view's name, or
"list" for the table, which is also `/m/<module>/table` whatever the setting."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import collections_ui, components, endpoints, layout, palette_items, permissions, runtime, session
from webos_shell.explorer import DataExplorer

TABLE = "table"  # `/m/<module>/table`: the table, whatever the default view


async def default_view(module: str) -> str | None:
    """The module's `default_view` for this person; None when unset or unreadable (the table)."""
    try:
        body = await runtime.get().gateway.get(app.storage.user, endpoints.MY_MODULE_SETTINGS.format(module=module))
    except (ApiError, OSError):
        return None
    values = body.get("values") if isinstance(body, dict) else None
    wanted = values.get("default_view") if isinstance(values, dict) else None
    return wanted if isinstance(wanted, str) else None


async def _module_page(request: Request, module: str, view: str | None) -> RedirectResponse | None:
    here = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    user = await session.require(here, request)
    if isinstance(user, RedirectResponse):
        return user
    rt = runtime.get()
    manifest = rt.registry.manifest(module) if rt.registry and rt.registry.is_enabled(module) else None
    views = components.views(manifest.ui_components, user) if manifest else {}
    first = collections_ui.find(module)
    if first is not None and view is None and request.query_params.get("id"):  # a link to one record
        return RedirectResponse(f"/m/{module}/{first.collection.name}/{quote(request.query_params['id'], safe='')}",
                                303)
    if first is not None and first.api.board and "board" not in views:
        views["board"] = components.View("board", "kanban")  # the generic board over `GET …/board`
    if view is None and not request.query_params and manifest is not None and manifest.settings_schema:
        wanted = await default_view(module)
        if wanted in views:
            return RedirectResponse(f"/m/{module}/{quote(wanted, safe='')}", 303)
    view = None if view == TABLE else view
    chosen = views.get(view or "")
    ref = collections_ui.find(module, chosen.collection if chosen else view)
    title = (ref.collection.label if ref else module.capitalize()) + (f" · {view}" if view in views else "")
    store = app.storage.user
    store["recent"] = palette_items.remember(store.get("recent", []), str(request.url.path), title)
    table = chosen is None and ref is not None and manifest is not None and permissions.can_read(user, ref.collection)
    # before the frame, whose timers wait for the page's socket: the page then comes with its rows
    first = await DataExplorer.first_page(ref, filters=dict(request.query_params)) if table and ref else None
    async with layout.frame(user, title):
        if manifest is not None and chosen is not None and not chosen.built_in and ref is None:
            # a shipped view of a module without collections: nothing else to show
            if not await components.render(chosen, None, user, dict(request.query_params), manifest):
                ui.label(f"The component {view!r} could not be loaded.").classes("text-negative")
            return None
        if manifest is None or ref is None:
            ui.label(f"The module {module!r} is not available.").classes("text-negative").props(
                'data-testid="module-missing"')
            return None
        if not permissions.can_read(user, ref.collection):
            ui.label("Access refused: you may not read this collection.").props('data-testid="refused"')
            return None
        with ui.row().classes("gap-2"):
            ui.button("Table", icon="table_rows", on_click=lambda: ui.navigate.to(f"/m/{module}/{TABLE}")).props(
                "flat")
            for name, item in views.items():
                ui.button(item.label or name.capitalize(), icon=item.icon,
                          on_click=lambda n=name: ui.navigate.to(f"/m/{module}/{n}")).props("flat")
        if chosen is not None:
            if not await components.render(chosen, ref, user, dict(request.query_params), manifest):
                ui.label(f"The component {view!r} could not be loaded.").classes("text-negative")
        else:
            DataExplorer(ref, user, filters=dict(request.query_params), first=first)
    return None


def register() -> None:
    @ui.page("/m/{module}")
    async def module_home(request: Request, module: str) -> RedirectResponse | None:
        return await _module_page(request, module, None)

    @ui.page("/m/{module}/{view}")
    async def module_view(request: Request, module: str, view: str) -> RedirectResponse | None:
        return await _module_page(request, module, view)
