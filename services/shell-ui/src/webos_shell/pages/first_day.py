"""The dashboard's help for a person who has nothing to do yet: what the platform offers (the
permissions services and modules declare, by group, with descriptions) and a way to ask the
administrators for access (they are notified). Also the reminder when a role requires
two-factor sign-in that is not set up."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_shell import a11y, permissions, runtime

ME, PERMISSIONS, REQUEST = "/api/auth/me", "/api/auth/permissions", "/api/auth/me/access-request"


async def _get(path: str) -> Any:
    try:
        return await runtime.get().gateway.get(app.storage.user, path)
    except (ApiError, OSError):
        return None


async def panel(user: User) -> None:
    rt = runtime.get()
    me = await _get(ME) or {}
    if me.get("otp_setup_required"):
        with ui.card().classes("w-full bg-amber-50").props('data-testid="otp-setup-required"'):
            ui.label(f"Your role(s) {', '.join(me['otp_setup_required'])} require two-factor sign-in. "
                     "Until you set it up you cannot use them.")
            ui.link("Set up two-factor sign-in", "/account?tab=twofactor")
    if user.is_admin or permissions.navigation(user, rt.registry.modules() if rt.registry else []):
        return
    declared = await _get(PERMISSIONS) or []
    with ui.card().classes("w-full").props('data-testid="first-day"'):
        a11y.heading("You have no access to any module yet")
        ui.label("This is what the platform offers; ask an administrator for what you need.").classes(
            "text-sm text-gray-500")
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in declared:
            groups.setdefault(item.get("group") or item.get("module", ""), []).append(item)
        for group, items in sorted(groups.items()):
            ui.label(group).classes("text-sm font-medium")
            for item in items:
                ui.label(f"{item['name']} — {item.get('description', '')}").classes("text-xs ml-2")
        message = ui.textarea("What do you need it for?").classes("w-full").props(
            'data-testid="access-message"')

        async def ask() -> None:
            try:
                await rt.gateway.send(app.storage.user, "POST", REQUEST, {"message": message.value or ""})
            except (ApiError, OSError) as exc:
                ui.notify(getattr(exc, "message", str(exc)), type="negative")
                return
            ui.notify("Your request went to the administrators", type="positive")
            message.value = ""

        ui.button("Request access", on_click=ask).props('data-testid="access-request"')
