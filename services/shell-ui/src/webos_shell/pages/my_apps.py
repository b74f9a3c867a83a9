"""My account → Connected apps: the apps this person allowed to sign them in with WebOS, and
revoking one (its consent and every token it holds end at once)."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import a11y, endpoints, runtime


async def section() -> None:
    @ui.refreshable
    async def listing() -> None:
        try:
            apps: list[dict[str, Any]] = await runtime.get().gateway.get(app.storage.user, endpoints.MY_APPS)
        except (ApiError, OSError) as exc:
            ui.label(f"Connected apps are unavailable: {exc}").classes("text-negative")
            return
        if not apps:
            ui.label("No app signs you in with WebOS").classes("text-sm text-gray-500").props(
                'data-testid="my-apps-none"')
        for item in apps:
            _row(item)

    def _row(item: dict[str, Any]) -> None:
        with ui.row().classes("w-full items-center justify-between border-b pb-2").props(
                f'data-testid="my-app" data-client="{item["client_id"]}"'):
            with ui.column().classes("gap-0"):
                ui.label(item["name"]).classes("font-medium")
                ui.label(", ".join(s["description"] for s in item["scopes"])).classes("text-sm text-gray-600")

            async def revoke() -> None:
                try:
                    await runtime.get().gateway.send(app.storage.user, "DELETE",
                                                     f"{endpoints.MY_APPS}/{item['client_id']}")
                except ApiError as exc:
                    ui.notify(exc.message, type="negative")
                    return
                ui.notify(f"{item['name']} can no longer sign you in", type="positive")
                listing.refresh()

            ui.button("Revoke", on_click=revoke).props(
                f'flat color=negative data-testid="my-app-revoke" aria-label="Revoke {item["name"]}"')

    with ui.card().classes("w-full max-w-3xl gap-2").props('data-testid="my-apps"'):
        a11y.heading("Apps you allowed")
        ui.label("These apps sign you in with your WebOS account. Revoking one signs you out of it.").classes(
            "text-sm text-gray-500")
        await listing()
