"""Roles: create, rename, delete; permissions chosen as checkboxes grouped by the service or
module that declares them, each with its description; two-factor sign-in required or not.
Built-in roles cannot be renamed or deleted (and superadmin always holds everything)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from webos_common.identity import User
from webos_shell import endpoints
from webos_shell.admin.calls import call, load

PERMISSIONS = "/api/auth/permissions"


def permission_boxes(declared: list[dict[str, Any]], chosen: set[str]) -> dict[str, ui.checkbox]:
    """One checkbox per declared permission, under its group; `*`-style grants stay as they are."""
    boxes: dict[str, ui.checkbox] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in declared:
        groups.setdefault(item.get("group") or item["module"], []).append(item)
    with ui.column().classes("w-full gap-0").props('data-testid="permission-boxes"'):
        for group, items in sorted(groups.items()):
            ui.label(group).classes("text-sm font-medium mt-2")
            for item in items:
                with ui.row().classes("items-center gap-2 no-wrap"):
                    boxes[item["name"]] = ui.checkbox(item["name"], value=item["name"] in chosen).props(
                        f'dense data-permission="{item["name"]}"')
                    ui.label(item.get("description", "")).classes("text-xs text-gray-500")
    return boxes


async def render(user: User) -> None:
    declared = await load(PERMISSIONS)

    @ui.refreshable
    async def listing() -> None:
        for role in await load(endpoints.ROLES):
            with ui.card().classes("w-full").props(f'data-testid="role-{role["name"]}"'):
                with ui.row().classes("items-center gap-2"):
                    ui.label(role["name"]).classes("font-medium")
                    if role["builtin"]:
                        ui.badge("built-in").props("outline")
                    if role.get("require_2fa"):
                        ui.badge("2FA required")
                    ui.label(role.get("description", "")).classes("text-sm text-gray-500")
                    ui.space()
                    ui.button("Edit", on_click=lambda r=role: edit(r)).props(
                        f'flat dense data-testid="role-edit-{role["name"]}"')
                ui.label(", ".join(role["permissions"]) or "no permissions").classes("text-xs")

    def edit(role: dict[str, Any] | None) -> None:
        new = role is None
        role = role or {"name": "", "description": "", "permissions": [], "builtin": False, "require_2fa": False}
        with ui.dialog(value=True) as dialog, ui.card().classes("w-[40rem]").props('data-testid="role-dialog"'):
            name = ui.input("Name", value=role["name"]).props('data-testid="role-name"').classes("w-full")
            name.set_enabled(not role["builtin"])
            description = ui.input("Description", value=role["description"]).classes("w-full")
            require = ui.switch("Require two-factor sign-in", value=role["require_2fa"])
            held = set(role["permissions"])
            boxes = permission_boxes(declared, held)
            others = sorted(held - set(boxes))  # wildcards and grants no one declares any more

            async def save() -> None:
                chosen = sorted({n for n, box in boxes.items() if box.value} | set(others))
                body: dict[str, Any] = {"description": description.value, "require_2fa": require.value}
                if role["name"] != "superadmin":
                    body["permissions"] = chosen
                if new:
                    ok = await call("POST", endpoints.ROLES, {"name": name.value, **body}, done="Role created")
                else:
                    if name.value != role["name"]:
                        body["name"] = name.value
                    ok = await call("PATCH", f"{endpoints.ROLES}/{role['name']}", body)
                if ok:
                    dialog.close()
                    listing.refresh()

            async def delete() -> None:
                if await call("DELETE", f"{endpoints.ROLES}/{role['name']}", done="Role deleted"):
                    dialog.close()
                    listing.refresh()

            with ui.row().classes("w-full"):
                ui.button("Save", on_click=save).props('data-testid="role-save"')
                if not new and not role["builtin"]:
                    ui.button("Delete", on_click=delete).props('flat color=negative data-testid="role-delete"')

    ui.button("New role", icon="add", on_click=lambda: edit(None)).props('data-testid="role-new"')
    await listing()
