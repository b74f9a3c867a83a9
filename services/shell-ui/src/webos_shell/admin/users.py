"""Users and roles: auth's admin API in two grids; roles of a user edited inline."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.identity import User
from webos_shell import endpoints, runtime
from webos_shell.gateway import ApiError


async def _list(path: str) -> list[dict[str, Any]]:
    try:
        body = await runtime.get().gateway.get(app.storage.user, path, limit=100)
    except (ApiError, OSError) as exc:
        ui.label(f"unavailable: {exc}").classes("text-negative")
        return []
    return body.get("items", []) if isinstance(body, dict) else body or []


async def render(user: User) -> None:
    rt = runtime.get()
    users = await _list(endpoints.USERS)
    ui.label("Users").classes("text-lg font-medium")
    grid = ui.aggrid({
        "columnDefs": [{"field": "username"}, {"field": "email"},
                       {"field": "roles", "editable": True}, {"field": "active", "editable": True}],
        "rowData": [{**u, "roles": ", ".join(u.get("roles", []))} for u in users],
    }, theme="quartz").classes("w-full h-72").props('data-testid="users-grid"')

    async def edited(event: Any) -> None:
        row, field, value = event.args["data"], event.args["colId"], event.args["newValue"]
        if field == "roles":
            value = [r.strip() for r in str(value).split(",") if r.strip()]
        try:
            await rt.gateway.send(app.storage.user, "PATCH", f"{endpoints.USERS}/{row.get('id')}", {field: value})
            ui.notify("Saved", type="positive")
        except ApiError as exc:
            ui.notify(str(exc), type="negative")

    grid.on("cellValueChanged", edited)
    roles = await _list(endpoints.ROLES)
    ui.label("Roles").classes("text-lg font-medium")
    ui.aggrid({"columnDefs": [{"field": "name"}, {"field": "permissions"}],
               "rowData": [{**r, "permissions": ", ".join(r.get("permissions", []))} for r in roles]},
              theme="quartz").classes("w-full h-60")
