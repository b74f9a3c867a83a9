"""My account's two-factor tab: set up TOTP (the secret and its otpauth:// link for an
authenticator app, then a code to prove it works), see the recovery codes once, turn it off
with the password (unless a role requires it)."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import runtime

SETUP, ENABLE, DISABLE = "/api/auth/me/2fa/setup", "/api/auth/me/2fa/enable", "/api/auth/me/2fa/disable"


async def _send(path: str, body: Any = None) -> tuple[Any, str | None]:
    try:
        return await runtime.get().gateway.send(app.storage.user, "POST", path, body), None
    except (ApiError, OSError) as exc:
        return None, getattr(exc, "message", str(exc))


def section(me: dict[str, Any]) -> None:
    with ui.column().classes("w-full max-w-xl gap-3").props('data-testid="twofactor"'):
        required = me.get("otp_setup_required") or []
        if required:
            ui.label(f"Your role(s) {', '.join(required)} require two-factor sign-in: set it up to use them."
                     ).classes("text-warning").props('data-testid="twofactor-required"')
        state = ui.label("Two-factor sign-in is on." if me.get("two_factor") else "Two-factor sign-in is off."
                         ).props('data-testid="twofactor-state"')
        area = ui.column().classes("w-full gap-2")

        async def start() -> None:
            answer, failure = await _send(SETUP)
            area.clear()
            with area:
                if failure:
                    ui.label(failure).classes("text-negative")
                    return
                ui.label("Add this key to your authenticator app, then enter the code it shows.")
                ui.label(answer["secret"]).classes("font-mono text-lg").props('data-testid="twofactor-secret"')
                ui.link("Open in an authenticator app", answer["otpauth_uri"]).classes("text-sm")
                code = ui.input("Code").props('autocomplete=one-time-code data-testid="twofactor-code"')
                error = ui.label("").classes("text-negative text-sm").props('data-testid="twofactor-error"')

                async def enable() -> None:
                    done, failed = await _send(ENABLE, {"code": code.value or ""})
                    if failed:
                        error.text = failed
                        return
                    area.clear()
                    state.text = "Two-factor sign-in is on."
                    with area:
                        ui.label("Recovery codes — keep them safe; each works once, and they are shown only now:")
                        ui.label("  ".join(done["recovery_codes"])).classes("font-mono").props(
                            'data-testid="twofactor-recovery"')

                ui.button("Turn on", on_click=enable).props('data-testid="twofactor-enable"')

        async def stop() -> None:
            with area:
                password = ui.input("Your password", password=True).props('data-testid="twofactor-password"')

                async def confirm() -> None:
                    _, failed = await _send(DISABLE, {"password": password.value or ""})
                    if failed:
                        ui.notify(failed, type="negative")
                        return
                    state.text = "Two-factor sign-in is off."
                    area.clear()

                ui.button("Turn off", on_click=confirm).props('color=negative data-testid="twofactor-disable"')

        if me.get("two_factor"):
            ui.button("Turn off two-factor sign-in", on_click=stop).props('flat data-testid="twofactor-stop"')
        else:
            ui.button("Set up two-factor sign-in", on_click=start).props('data-testid="twofactor-start"')
