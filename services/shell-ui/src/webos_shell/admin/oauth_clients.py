"""Apps that sign in with WebOS (OAuth clients): register one (name, redirect URIs, scopes,
confidential or public; a confidential app's secret is shown once) and remove one."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_shell import a11y, endpoints, runtime
from webos_shell.admin.calls import call, load

SCOPES = ["openid", "profile", "email"]


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _reveal(card: ui.card, made: dict[str, Any]) -> None:
    card.clear()
    with card:
        a11y.heading(f"{made['name']} is registered", level=3)
        ui.label(f"Client ID: {made['client_id']}").props('data-testid="client-id"')
        if made.get("client_secret"):
            ui.label("Client secret (shown once; copy it now):").classes("text-sm")
            ui.label(made["client_secret"]).classes("font-mono break-all").props('data-testid="client-secret"')
        else:
            ui.label("A public app has no secret: it proves itself with PKCE.").classes("text-sm")
    card.set_visibility(True)


async def render(user: User) -> None:
    @ui.refreshable
    async def listing() -> None:
        for item in await load(endpoints.OAUTH_CLIENTS):
            with ui.row().classes("w-full items-center justify-between border-b pb-2").props(
                    f'data-testid="client-row" data-client="{item["client_id"]}"'):
                kind = "public" if item["public"] else "confidential"
                ui.label(f"{item['name']} · {kind} · {', '.join(item['redirect_uris'])}")

                async def remove(client_id: str = item["client_id"]) -> None:
                    if await call("DELETE", f"{endpoints.OAUTH_CLIENTS}/{client_id}", done="App removed"):
                        listing.refresh()

                ui.button("Remove", on_click=remove).props(
                    f'flat dense color=negative aria-label="Remove {item["name"]}"')

    with ui.card().classes("w-full max-w-3xl gap-2").props('data-testid="client-form"'):
        a11y.heading("Register an app")
        name = ui.input("Name").props('data-testid="client-name"').classes("w-full")
        redirects = ui.textarea("Redirect URIs (one per line)").props('data-testid="client-redirects"').classes(
            "w-full")
        logouts = ui.textarea("After sign-out URIs (one per line, optional)").props(
            'data-testid="client-logouts"').classes("w-full")
        scopes = ui.select(SCOPES, value=list(SCOPES), label="Allowed scopes", multiple=True).props(
            'use-chips data-testid="client-scopes"').classes("w-full")
        public = ui.switch("Public app (cannot keep a secret: browser or desktop)").props(
            'data-testid="client-public"')
        failure = ui.label("").classes("text-negative").props('data-testid="client-error"')

        async def register() -> None:
            body = {"name": name.value, "redirect_uris": lines(redirects.value),
                    "post_logout_redirect_uris": lines(logouts.value), "scopes": scopes.value, "public": public.value}
            try:
                made = await runtime.get().gateway.send(app.storage.user, "POST", endpoints.OAUTH_CLIENTS, body)
            except ApiError as exc:
                failure.text = exc.message
                return
            failure.text = ""
            _reveal(created, made)
            listing.refresh()

        ui.button("Register", icon="add", on_click=register).props('data-testid="client-register"')
    created = ui.card().classes("w-full max-w-3xl gap-2 border-2 border-amber-500").props(
        'data-testid="client-created"')
    created.set_visibility(False)
    with ui.card().classes("w-full max-w-3xl gap-2"):
        a11y.heading("Registered apps")
        await listing()
