"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_common.clients.session import ApiError, error_code
from webos_shell import a11y, endpoints, runtime, session
from webos_shell.schema_fields import server_errors


async def _sign_in_options() -> dict[str, Any]:
    """Auth's sign-in options (`enabled`/`provider` for SSO, `registration` mode); {} when unreachable."""
    try:
        config = await runtime.get().gateway.get({}, endpoints.SSO_CONFIG)
    except (ApiError, OSError):
        return {}
    return config if isinstance(config, dict) else {}


def _sso_provider(options: dict[str, Any]) -> str | None:
    """The SSO provider's name when auth has one configured (or the shell's override)."""
    override = runtime.get().settings.shell_sso_name
    if override:
        return override
    return str(options.get("provider") or "SSO") if options.get("enabled") else None


def field_errors(exc: ApiError) -> dict[str, str]:
    """`{field: message}` from a platform error: a 422's details, or the one field a
    409 or 403 names (`details.field`)."""
    found = server_errors(exc.body)
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if isinstance(details, dict) and details.get("field"):
        found.setdefault(str(details["field"]), exc.message)
    return found


def _card(title: str, subtitle: str, testid: str) -> ui.card:
    rt = runtime.get()
    ui.page_title(f"{title} · {rt.theme.brand_name}")
    ui.colors(primary=rt.theme.primary)
    card = ui.card().classes("absolute-center w-96 p-6 gap-3").props(f'data-testid="{testid}"')
    with card:
        a11y.heading(rt.theme.brand_name, 1)
        ui.label(subtitle).classes("text-gray-500")
    return card


def set_errors(inputs: dict[str, Any], errors: dict[str, str]) -> None:
    """Each message under its input; the others cleared."""
    for name, field in inputs.items():
        field.error = errors.get(name)


async def _signed_in(name: str, password: str) -> bool:
    """Sign in to this browser's session; False when auth does not let the person in yet."""
    try:
        await runtime.get().gateway.login(app.storage.user, name, password)
    except (ApiError, OSError):
        return False
    return True


def register() -> None:
    @ui.page("/login")
    async def login(next: str = "/", notice: str | None = None) -> None:
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
                await rt.gateway.login(app.storage.user, name.value, password.value, otp.value or None)
            except ApiError as exc:
                code = error_code(exc)
                if code in ("otp_required", "otp_invalid"):  # the password was right: ask for the code
                    otp.set_visibility(True)
                    otp.run_method("focus")
                    error.text = exc.message if code == "otp_invalid" or otp.value else ""
                    return
                error.text = str(exc) if exc.status != 401 else "Wrong user name or password"
                return
            except OSError as exc:
                error.text = f"Sign-in is unavailable: {exc}"
                return
            ui.navigate.to(target)

        with ui.card().classes("absolute-center w-96 p-6").props('data-testid="login-card"'):
            a11y.heading(rt.theme.brand_name, 1)
            ui.label("Sign in to continue").classes("text-gray-500")
            reason = app.storage.user.pop("signed_out_reason", None)  # auth's words, kept from the refresh
            if reason:
                ui.label(str(reason)).classes("text-sm text-warning").props('data-testid="login-reason"')
            elif notice in session.NOTICES:  # a fixed text by key: nothing from the URL is shown as such
                ui.label(session.NOTICES[notice]).classes("text-sm text-positive").props(
                    'data-testid="login-notice"')
            name = ui.input("User name or email").props('autofocus data-testid="login-name"').classes("w-full")
            password = ui.input("Password", password=True, password_toggle_button=True).props(
                'data-testid="login-password"').classes("w-full").on("keydown.enter", submit)
            otp = ui.input("Code from your authenticator app (or a recovery code)").props(
                'autocomplete=one-time-code data-testid="login-otp"').classes("w-full").on("keydown.enter", submit)
            otp.set_visibility(False)
            error = ui.label("").classes("text-negative text-sm").props('data-testid="login-error"')
            ui.button("Sign in", on_click=submit).classes("w-full").props('data-testid="login-submit"')
            options = await _sign_in_options()
            provider = _sso_provider(options)
            if provider:
                ui.button(f"Sign in with {provider}", icon="login",
                          on_click=lambda: ui.navigate.to(f"{endpoints.SSO_LOGIN}?next={quote(target, safe='')}")
                          ).classes("w-full").props('outline data-testid="login-sso"')
            with ui.row().classes("w-full justify-between text-sm"):
                ui.link("Forgot your password?", "/password/forgot").props('data-testid="login-forgot"')
                if options.get("registration") == "open":
                    ui.link("Create an account", "/register").props('data-testid="login-register"')

    @ui.page("/register")
    async def register_page(invite: str | None = None) -> None:
        with _card("Create an account", "Create your account", "register-card"):
            fields = {
                "email": ui.input("Email").props('type=email data-testid="register-email"').classes("w-full"),
                "username": ui.input("User name").props('data-testid="register-username"').classes("w-full"),
                "display_name": ui.input("Display name (optional)").classes("w-full"),
                "password": ui.input("Password", password=True, password_toggle_button=True).props(
                    'data-testid="register-password"').classes("w-full"),
            }
            note = ui.label("").classes("text-sm").props('data-testid="register-result"')

            async def submit() -> None:
                missing = {k: "Required" for k in ("email", "username", "password") if not fields[k].value}
                set_errors(fields, missing)
                if missing:
                    return
                body = {k: f.value for k, f in fields.items() if f.value}
                if invite:
                    body["invite"] = invite
                if not await _posted(endpoints.REGISTER, body, fields, note, "Sign-up is unavailable"):
                    return
                if invite and await _signed_in(body["username"], body["password"]):
                    ui.navigate.to("/")  # the invitation vouched for the address: straight in
                    return
                note.text = "Account created. We sent you a mail to confirm your address; you can sign in now."
                note.classes(replace="text-sm text-positive")

            ui.button("Create account", on_click=submit).classes("w-full").props('data-testid="register-submit"')
            ui.link("Back to sign-in", "/login").classes("text-sm")

    @ui.page("/verify-email")
    async def verify_page(token: str = "") -> None:
        with _card("Confirm your address", "Confirming your email address", "verify-card"):
            result = ui.label("").props('data-testid="verify-result"')
            try:
                await runtime.get().gateway.send({}, "POST", endpoints.VERIFY_EMAIL, {"token": token})
            except ApiError as exc:
                result.text = f"This link does not work: {exc.message}"
                result.classes("text-negative")
            except OSError as exc:
                result.text = f"Confirmation is unavailable: {exc}"
                result.classes("text-negative")
            else:
                result.text = "Your email address is confirmed."
                result.classes("text-positive")
            ui.link("Sign in", "/login").classes("text-sm")

    @ui.page("/password/forgot")
    async def forgot_page() -> None:
        with _card("Forgot password", "We will mail you a link to choose a new password", "forgot-card"):
            email = ui.input("Email").props('type=email data-testid="forgot-email"').classes("w-full")
            result = ui.label("").classes("text-sm").props('data-testid="forgot-result"')

            async def submit() -> None:
                set_errors({"email": email}, {} if email.value else {"email": "Required"})
                if not email.value:
                    return
                try:
                    answer = await runtime.get().gateway.send({}, "POST", endpoints.FORGOT_PATH,
                                                              {"email": email.value})
                except ApiError as exc:
                    set_errors({"email": email}, field_errors(exc) or {"email": exc.message})
                    return
                except OSError as exc:
                    result.text = f"Unavailable: {exc}"
                    return
                result.text = str((answer or {}).get("status") or "Check your mail.")

            ui.button("Send the link", on_click=submit).classes("w-full").props('data-testid="forgot-submit"')
            ui.link("Back to sign-in", "/login").classes("text-sm")

    @ui.page("/password/reset")
    async def reset_page(token: str = "") -> None:
        with _card("New password", "Choose a new password", "reset-card"):
            fields = {
                "new_password": ui.input("New password", password=True, password_toggle_button=True).props(
                    'data-testid="reset-password"').classes("w-full"),
                "confirm": ui.input("Repeat it", password=True).props('data-testid="reset-confirm"').classes(
                    "w-full"),
            }
            result = ui.label("").classes("text-sm").props('data-testid="reset-result"')

            async def submit() -> None:
                new, again = fields["new_password"].value, fields["confirm"].value
                errors = {"new_password": "Required"} if not new else (
                    {"confirm": "The two passwords differ"} if new != again else {})
                set_errors(fields, errors)
                if errors:
                    return
                if not await _posted(endpoints.RESET_PATH, {"token": token, "new_password": new}, fields, result,
                                     "Unavailable"):
                    return
                result.text = "Your password is changed. Sign in with the new one."
                result.classes(replace="text-sm text-positive")

            ui.button("Change password", on_click=submit).classes("w-full").props('data-testid="reset-submit"')
            ui.link("Back to sign-in", "/login").classes("text-sm")

    @ui.page("/logout")
    async def logout() -> RedirectResponse:
        await runtime.get().gateway.logout(app.storage.user)
        app.storage.user.clear()
        response = RedirectResponse("/login?notice=signed_out", status_code=303)
        for cookie in ("access_token", "refresh_token"):  # set by an SSO sign-in
            response.delete_cookie(cookie, path="/")
        return response


async def _posted(path: str, body: dict[str, Any], fields: dict[str, Any], note: Any, unavailable: str) -> bool:
    """POST a signed-out form; a refusal is shown at its fields (or, naming none of them, in
    `note`) and False returned."""
    try:
        await runtime.get().gateway.send({}, "POST", path, body)
    except ApiError as exc:
        errors = field_errors(exc)
        set_errors(fields, errors)
        note.text = "" if errors.keys() & fields.keys() else exc.message
        note.classes(replace="text-sm text-negative")
        return False
    except OSError as exc:
        note.text = f"{unavailable}: {exc}"
        return False
    set_errors(fields, {})
    return True
