"""People: auth's admin API in a grid (last sign-in shown); invite or create a person with
roles chosen in the role picker (never typed); pending access requests (`access_requests`);
per person: roles, disable, reset password, unlock, sign out everywhere. Refusals (the last
superadmin, one's own admin role) are shown as auth words them, and the grid is redrawn from
the server, never left showing a value that was not saved."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from webos_common.identity import User
from webos_shell import a11y, endpoints
from webos_shell.admin import access_requests
from webos_shell.admin.calls import call, load
from webos_shell.pickers import role_select


def _row(u: dict[str, Any]) -> dict[str, Any]:
    return {"id": u["id"], "username": u["username"], "email": u["email"], "roles": ", ".join(u.get("roles", [])),
            "active": u.get("active", True), "two_factor": u.get("two_factor", False),
            "last_login": (u.get("last_login") or "never")[:19].replace("T", " ")}


async def render(user: User) -> None:
    roles = [r["name"] for r in await load(endpoints.ROLES)]

    @ui.refreshable
    async def people() -> None:
        rows = [_row(u) for u in await load(endpoints.USERS, limit=200)]
        grid = ui.aggrid({
            "columnDefs": [{"field": "username"}, {"field": "email"}, {"field": "roles"}, {"field": "active"},
                           {"field": "two_factor", "headerName": "2FA"}, {"field": "last_login",
                                                                           "headerName": "Last sign-in"}],
            "rowData": rows, "rowSelection": "single",
        }, theme="quartz").classes("w-full h-72").props('data-testid="users-grid"')
        grid.on("cellClicked", lambda e: edit(e.args["data"]))

    def edit(row: dict[str, Any]) -> None:
        path = f"{endpoints.USERS}/{row['id']}"
        with ui.dialog(value=True) as dialog, ui.card().classes("w-[32rem]").props('data-testid="user-dialog"'):
            ui.label(row["username"]).classes("text-lg font-medium")
            ui.label(f"{row['email']} · last sign-in {row['last_login']}").classes("text-sm text-gray-500")
            picker = role_select(roles, [r for r in row["roles"].split(", ") if r], testid="user-roles")
            active = ui.switch("Active", value=row["active"]).props('data-testid="user-active"')

            async def save() -> None:
                if await call("PATCH", path, {"roles": picker.value, "active": active.value}):
                    dialog.close()
                people.refresh()

            with ui.row().classes("w-full gap-1"):
                ui.button("Save", on_click=save).props('data-testid="user-save"')
                ui.button("Reset password", on_click=lambda: call("POST", f"{path}/reset-password",
                                                                  done="Reset link sent")).props("flat")
                ui.button("Unlock", on_click=lambda: call("POST", f"{path}/unlock", done="Unlocked")).props("flat")
                ui.button("Sign out everywhere", on_click=lambda: call("POST", f"{path}/sign-out",
                                                                       done="Signed out")).props("flat")

    with ui.row().classes("w-full gap-4 items-start"):
        with ui.card().classes("w-96").props('data-testid="invite-card"'):
            ui.label("Invite by e-mail").classes("font-medium")
            email = ui.input("E-mail").props('type=email data-testid="invite-email"').classes("w-full")
            invite_roles = role_select(roles, ["user"], testid="invite-roles")

            async def invite() -> None:
                if await call("POST", f"{endpoints.USERS}/invite", {"email": email.value, "roles": invite_roles.value},
                              done="Invitation sent"):
                    email.value = ""

            ui.button("Send invitation", on_click=invite).props('data-testid="invite-send"')
        with ui.card().classes("w-96").props('data-testid="create-card"'):
            ui.label("Create a person").classes("font-medium")
            fields = {"email": ui.input("E-mail").classes("w-full").props('data-testid="create-email"'),
                      "username": ui.input("User name").classes("w-full").props('data-testid="create-username"'),
                      "password": ui.input("Password", password=True).classes("w-full").props(
                          'data-testid="create-password"')}
            create_roles = role_select(roles, ["user"], testid="create-roles")

            async def create() -> None:
                body = {k: f.value for k, f in fields.items()} | {"roles": create_roles.value}
                if await call("POST", endpoints.USERS, body, done="Created"):
                    for f in fields.values():
                        f.value = ""
                    people.refresh()

            ui.button("Create", on_click=create).props('data-testid="create-submit"')
    async def redraw_people() -> None:
        people.refresh()

    await access_requests.render(roles, redraw_people)
    a11y.heading("People (click a row to manage)")
    await people()
