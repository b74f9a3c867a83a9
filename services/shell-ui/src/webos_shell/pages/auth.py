"""Sign-in and sign-out pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_shell import endpoints, runtime, session
from webos_shell.gateway import ApiError


async def _sso_provider() -> str | None:
    """The SSO provider's name when auth has one configured (or the shell's override)."""
    rt = runtime.get()
    if rt.settings.shell_sso_name:
        return rt.settings.shell_sso_name
    try:
        config = await rt.gateway.get({}, endpoints.SSO_CONFIG)
    except (ApiError, OSError):
        return None
    return str(config.get("provider") or "SSO") if isinstance(config, dict) and config.get("enabled") else None


def register() -> None:
    @ui.page("/login")
    async def login(next: str = "/") -> None:
        rt = runtime.get()
        target = session.safe_next(next)
        ui.page_title(f"Sign in · {rt.theme.brand_name}")
        ui.colors(primary=rt.theme.primary)

        async def submit() -> None:
            error.text = ""
            if not name.value or not password.value:
                error.text = "Enter your user name and password"
                return
            try:
                await rt.gateway.login(app.storage.user, name.value, password.value)
            except ApiError as exc:
                error.text = str(exc) if exc.status != 401 else "Wrong user name or password"
                return
            except OSError as exc:
                error.text = f"Sign-in is unavailable: {exc}"
                return
            ui.navigate.to(target)

        with ui.card().classes("absolute-center w-96 p-6").props('data-testid="login-card"'):
            ui.label(rt.theme.brand_name).classes("text-2xl font-semibold")
            ui.label("Sign in to continue").classes("text-gray-500")
            name = ui.input("User name or email").props('autofocus data-testid="login-name"').classes("w-full")
            password = ui.input("Password", password=True, password_toggle_button=True).props(
                'data-testid="login-password"').classes("w-full").on("keydown.enter", submit)
            error = ui.label("").classes("text-negative text-sm").props('data-testid="login-error"')
            ui.button("Sign in", on_click=submit).classes("w-full").props('data-testid="login-submit"')
            provider = await _sso_provider()
            if provider:
                ui.button(f"Sign in with {provider}", icon="login",
                          on_click=lambda: ui.navigate.to(f"{endpoints.SSO_LOGIN}?next={quote(target, safe='')}")
                          ).classes("w-full").props('outline data-testid="login-sso"')

    @ui.page("/logout")
    async def logout() -> RedirectResponse:
        await runtime.get().gateway.logout(app.storage.user)
        app.storage.user.clear()
        response = RedirectResponse("/login", status_code=303)
        for cookie in ("access_token", "refresh_token"):  # set by an SSO sign-in
            response.delete_cookie(cookie, path="/")
        return response
