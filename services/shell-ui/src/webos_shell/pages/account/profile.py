"""My account's profile and password tabs: what a person may change of themselves, checked
before asking auth (which checks the policy)."""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import app, ui

from webos_shell import session
from webos_shell.pages.account.calls import FAILED, ME, ME_PASSWORD, say, send
from webos_shell.pages.auth import set_errors

PROFILE_FIELDS = ("display_name", "avatar_url", "bio")  # auth's `Profile`


def profile_changes(me: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The `PATCH /api/auth/me` body for what differs from `me`: a new user
    name, and the profile fields that changed (emptied → null, which clears)."""
    body: dict[str, Any] = {}
    username = str(values.get("username") or "").strip()
    if username and username != me.get("username"):
        body["username"] = username
    current = me.get("profile") or {}
    profile = {}
    for name in PROFILE_FIELDS:
        new = str(values.get(name) or "").strip() or None
        if new != (current.get(name) or None):
            profile[name] = new
    if profile:
        body["profile"] = profile
    return body


def password_problems(current: str | None, new: str | None, repeat: str | None) -> dict[str, str]:
    """What is wrong before asking the server (which checks the policy)."""
    errors = {name: "Required" for name, value in (("current_password", current), ("new_password", new))
              if not value}
    if new and new != repeat:
        errors["repeat"] = "The two passwords differ"
    elif new and new == current:
        errors.update({"new_password": "The new password is the same as the current one"})
    return errors


def profile_section(me: dict[str, Any]) -> None:
    state = {"me": me}
    profile = me.get("profile") or {}
    with ui.card().classes("w-full max-w-2xl gap-3").props('data-testid="account-profile"'):
        with ui.row().classes("gap-8"):
            for label, value, testid in (("User name", me.get("username"), "profile-username"),
                                         ("Email", me.get("email"), "profile-email")):
                with ui.column().classes("gap-0"):
                    ui.label(label).classes("text-xs text-gray-500")
                    ui.label(str(value or "")).props(f'data-testid="{testid}"')
            with ui.column().classes("gap-0"):
                ui.label("Email confirmed").classes("text-xs text-gray-500")
                ui.label("yes" if me.get("verified") else "not yet")
        with ui.row().classes("gap-1 items-center").props('data-testid="profile-roles"'):
            ui.label("Roles").classes("text-xs text-gray-500 mr-2")
            for role in me.get("roles") or []:
                ui.badge(str(role)).props("outline")
        inputs: dict[str, Any] = {
            "username": ui.input("User name", value=me.get("username") or "").props(
                'data-testid="profile-username-input"'),
            "display_name": ui.input("Display name", value=profile.get("display_name") or "").props(
                'data-testid="profile-display-name"'),
            "avatar_url": ui.input("Avatar URL", value=profile.get("avatar_url") or "").props(
                'data-testid="profile-avatar-url"'),
            "bio": ui.textarea("About you", value=profile.get("bio") or "").props('data-testid="profile-bio"'),
        }
        for element in inputs.values():
            element.classes("w-full")
        result = ui.label("").classes("text-sm").props('data-testid="profile-result"')

        async def save() -> None:
            values = {name: element.value for name, element in inputs.items()}
            if not str(values["username"] or "").strip():
                set_errors(inputs, {"username": "Required"})
                return
            body = profile_changes(state["me"], values)
            if not body:
                set_errors(inputs, {})
                say(result, "Nothing changed.", True)
                return
            updated = await send(inputs, result, "PATCH", ME, body)
            if updated is FAILED:
                return
            state["me"] = {**state["me"], **(updated or {})}
            set_errors(inputs, {})
            say(result, "Your profile is saved.", True)

        ui.button("Save profile", icon="save", on_click=save).props('data-testid="profile-save"')


def password_section() -> None:
    store = app.storage.user
    with ui.card().classes("w-full max-w-md gap-3").props('data-testid="account-password"'):
        ui.label("Changing your password signs you out everywhere, this browser included.").classes(
            "text-sm text-gray-500")
        inputs: dict[str, Any] = {
            "current_password": ui.input("Current password", password=True, password_toggle_button=True).props(
                'data-testid="password-current"'),
            "new_password": ui.input("New password", password=True, password_toggle_button=True).props(
                'data-testid="password-new"'),
            "repeat": ui.input("Repeat the new password", password=True).props('data-testid="password-repeat"'),
        }
        for element in inputs.values():
            element.classes("w-full")
        result = ui.label("").classes("text-sm").props('data-testid="password-result"')

        async def submit() -> None:
            current, new = inputs["current_password"].value, inputs["new_password"].value
            problems = password_problems(current, new, inputs["repeat"].value)
            set_errors(inputs, problems)
            result.text = ""
            if problems:
                return
            sent = await send(inputs, result, "POST", ME_PASSWORD, {"current_password": current, "new_password": new})
            if sent is FAILED:
                return
            set_errors(inputs, {})
            for key in ("access_token", "refresh_token"):  # auth revoked them all
                store.pop(key, None)
            say(result, "Your password is changed. Sign in again with the new one.", True)
            ui.notify("Password changed: sign in again with the new one", type="positive")
            await asyncio.sleep(1.5)
            ui.navigate.to(session.login_url("/account", notice="password_changed"))

        ui.button("Change password", icon="lock_reset", on_click=submit).props('data-testid="password-submit"')
