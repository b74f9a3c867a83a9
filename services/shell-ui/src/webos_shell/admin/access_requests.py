"""Pending access requests (asked on the first-day page), on the people page: who asks and
why; approve by granting roles chosen in the role picker, or deny. The person is notified
by auth either way; an approval is a role change, so they sign in again with it."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from webos_shell import endpoints
from webos_shell.admin.calls import call, load
from webos_shell.pickers import role_select


async def render(roles: list[str], on_change: Any) -> None:
    """The card; `on_change()` redraws what an approval changes (the people grid)."""

    @ui.refreshable
    async def pending() -> None:
        items = await load(endpoints.ACCESS_REQUESTS)
        if not items:
            ui.label("No one is waiting for access").classes("text-sm text-gray-500").props(
                'data-testid="requests-none"')
        for item in items:
            _request(item)

    def _request(item: dict[str, Any]) -> None:
        who, path = item["username"], f"{endpoints.ACCESS_REQUESTS}/{item['id']}"
        with ui.column().classes("w-full gap-1 border-b pb-2").props(f'data-testid="request-{who}"'):
            asked = f" · asks for {', '.join(item['permissions'])}" if item.get("permissions") else ""
            ui.label(f"{who}{asked}").classes("font-medium")
            ui.label(item.get("message") or "No message").classes("text-sm text-gray-600")
            picker = role_select(roles, [], testid=f"request-roles-{who}")

            async def approve() -> None:
                if not picker.value:
                    picker.error = "Choose the roles to grant"
                    return
                if await call("POST", f"{path}/approve", {"roles": picker.value}, done=f"{who} may now use it"):
                    await on_change()
                pending.refresh()

            async def deny() -> None:
                await call("POST", f"{path}/deny", done=f"{who}'s request denied")
                pending.refresh()

            with ui.row().classes("gap-1"):
                ui.button("Approve", on_click=approve).props(f'dense data-testid="request-approve-{who}"')
                ui.button("Deny", on_click=deny).props(f'flat dense color=negative data-testid="request-deny-{who}"')

    with ui.card().classes("w-full").props('data-testid="access-requests"'):
        ui.label("Access requests").classes("font-medium")
        await pending()
