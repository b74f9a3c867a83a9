"""`/oauth/consent`: where an app that signs people in with WebOS sends the browser (auth's
`/oauth/authorize` redirects here with the app's request). Signed out: sign in first, then back.
The person sees what the app asks for and allows or denies; auth answers where the browser goes
next (back to the app, with a code or `access_denied`). Scopes allowed before are not asked again."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import a11y, endpoints, layout, runtime, session


async def _answer(query: str, allow: bool) -> str:
    body = await runtime.get().gateway.send(app.storage.user, "POST", f"{endpoints.OAUTH_CONSENT}?{query}",
                                            {"allow": allow})
    return str(body["redirect_to"])


def _ask(asked: dict[str, Any], query: str) -> None:
    name = asked["client"]["name"]
    with ui.card().classes("w-full max-w-lg gap-3").props('data-testid="consent-card"'):
        a11y.heading(f"{name} wants to sign you in")
        ui.label(f"{name} asks to:").classes("text-sm")
        with ui.column().classes("gap-1").props('data-testid="consent-scopes"'):
            for scope in asked["scopes"]:
                ui.label(f"• {scope['description']}").props(f'data-scope="{scope["name"]}"')
        ui.label(f"You will go back to {asked['redirect_uri']}").classes("text-sm text-gray-600")
        failure = ui.label("").classes("text-negative")

        async def decide(allow: bool) -> None:
            try:
                ui.navigate.to(await _answer(query, allow))
            except ApiError as exc:
                failure.text = exc.message

        with ui.row().classes("gap-2"):
            ui.button("Allow", on_click=lambda: decide(True)).props('data-testid="consent-allow"')
            ui.button("Deny", on_click=lambda: decide(False)).props('flat data-testid="consent-deny"')


def register() -> None:
    @ui.page("/oauth/consent")
    async def consent_page(request: Request) -> RedirectResponse | None:
        query = request.url.query
        user = await session.require(f"/oauth/consent?{query}", request)
        if isinstance(user, RedirectResponse):
            return user
        try:
            asked = await runtime.get().gateway.get(app.storage.user, f"{endpoints.OAUTH_CONSENT}?{query}")
            if asked.get("consented"):
                return RedirectResponse(await _answer(query, True), status_code=303)
        except ApiError as exc:
            async with layout.frame(user, "Sign in to an app"):
                a11y.heading("This sign-in request cannot be answered")
                ui.label(exc.message).classes("text-negative").props('data-testid="consent-refused"')
            return None
        async with layout.frame(user, "Sign in to an app"):
            _ask(asked, query)
        return None
