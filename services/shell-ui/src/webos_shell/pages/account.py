"""My account (`/account`): the signed-in person's own profile, password,
API keys and preferences, over auth's `/api/auth/me…` and the settings
service's `/api/settings/me/…`, called with the person's own token.
`?tab=profile|password|twofactor|keys|preferences` opens a section."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import a11y, layout, runtime, session
from webos_shell.autoform import AutoForm
from webos_shell.pages import my_apps, twofactor
from webos_shell.pages.auth import field_errors, set_errors
from webos_shell.tabular import parse_moment, when

ME = "/api/auth/me"
ME_PASSWORD = "/api/auth/me/password"  # noqa: S105 - a path, not a secret
ME_API_KEYS = "/api/auth/me/api-keys"
ME_API_KEY = "/api/auth/me/api-keys/{key_id}"
SETTINGS_SCHEMAS = "/api/settings/schemas"
MY_SETTINGS = "/api/settings/me/{module}"

TABS = {"profile": ("Profile", "person"), "password": ("Password", "password"),
        "twofactor": ("Two-factor", "security"), "keys": ("API keys", "key"),
        "apps": ("Connected apps", "apps"), "preferences": ("Preferences", "tune")}
PROFILE_FIELDS = ("display_name", "avatar_url", "bio")  # auth's `Profile`
THEMES = {"system": "Follow the browser", "light": "Light", "dark": "Dark"}
MAX_KEY_DAYS = 3650


# -- pure helpers ---------------------------------------------------------------
def place_errors(errors: dict[str, str], fields: Iterable[str]) -> tuple[dict[str, str], str]:
    """Server errors under the inputs they name (`profile.display_name` →
    `display_name`, `permissions.0` → `permissions`); the others as one line."""
    names = set(fields)
    placed: dict[str, str] = {}
    rest: list[str] = []
    for path, message in errors.items():
        name = next((part for part in path.split(".") if part in names), None)
        if name is None:
            rest.append(f"{path}: {message}" if path else message)
        else:
            placed.setdefault(name, message)
    return placed, "; ".join(rest)


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


def parse_permissions(text: str | None) -> list[str]:
    """`tasks.read, tasks.write` (commas or spaces) → the distinct permissions, in order."""
    found: list[str] = []
    for part in re.split(r"[,\s]+", text or ""):
        if part and part not in found:
            found.append(part)
    return found


def key_request(name: str | None, permissions: str | None,
                days: float | int | str | None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The `POST /api/auth/me/api-keys` body, or None and the errors by field.
    No expiry (empty) is a key that never expires."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    wanted = parse_permissions(permissions)
    if not name:
        errors["name"] = "Required"
    if not wanted:
        errors["permissions"] = "At least one permission"
    expires: int | None = None
    if days not in (None, ""):
        try:
            expires = int(float(days))
        except (TypeError, ValueError):
            expires = 0
        if not 1 <= expires <= MAX_KEY_DAYS:
            errors["expires_in_days"] = f"Between 1 and {MAX_KEY_DAYS} days (empty: never expires)"
    if errors:
        return None, errors
    return {"name": name, "permissions": wanted, "expires_in_days": expires}, {}


def key_status(key: dict[str, Any], now: datetime | None = None) -> str:
    if key.get("revoked_at"):
        return "revoked"
    expires = parse_moment(key.get("expires_at"))
    if expires is not None and expires <= (now or datetime.now(UTC)):
        return "expired"
    return "active"


def key_row(key: dict[str, Any], now: datetime | None = None) -> dict[str, str]:
    """One API key (auth's public shape) as the texts the list shows."""
    return {
        "id": re.sub(r"[^\w-]", "", str(key.get("id") or "")),
        "name": str(key.get("name") or ""),
        "prefix": str(key.get("prefix") or ""),
        "permissions": ", ".join(key.get("permissions") or []) or "none",
        "created": when(key.get("created_at")),
        "expires": when(key.get("expires_at")) or "never",
        "last_used": when(key.get("last_used_at")) or "never",
        "revoked": when(key.get("revoked_at")),
        "status": key_status(key, now),
    }


def changed_values(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Only what the person changed: the rest keeps following the defaults."""
    return {k: v for k, v in body.items() if current.get(k) != v}


def saved_state(settings: dict[str, Any]) -> str:
    """A settings read (`values`, `explicit`, `version`) in words."""
    own = sorted((settings.get("explicit") or {}).keys())
    if not own:
        return "Everything follows the defaults: nothing of your own is saved yet."
    return f"Saved (version {settings.get('version', '?')}). Your own choices: {', '.join(own)}."


# -- drawing --------------------------------------------------------------------
def _say(label: ui.label, text: str, ok: bool) -> None:
    label.text = text
    label.classes(replace="text-sm " + ("text-positive" if ok else "text-negative"))


_FAILED = object()


async def _send(inputs: dict[str, Any], result: ui.label, method: str, path: str, body: Any) -> Any:
    """A call as the person; on an error the messages go under the inputs they name (the rest
    into `result`) and `_FAILED` comes back."""
    try:
        return await runtime.get().gateway.send(app.storage.user, method, path, body)
    except ApiError as exc:
        placed, rest = place_errors(field_errors(exc), inputs)
        set_errors(inputs, placed)
        _say(result, rest or ("" if placed else exc.message), False)
    except OSError as exc:
        _say(result, f"Unavailable: {exc}", False)
    return _FAILED


async def _fetch(path: str) -> tuple[Any, str | None]:
    try:
        return await runtime.get().gateway.get(app.storage.user, path), None
    except (ApiError, OSError) as exc:
        return None, str(exc)


def _profile(me: dict[str, Any]) -> None:
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
                _say(result, "Nothing changed.", True)
                return
            updated = await _send(inputs, result, "PATCH", ME, body)
            if updated is _FAILED:
                return
            state["me"] = {**state["me"], **(updated or {})}
            set_errors(inputs, {})
            _say(result, "Your profile is saved.", True)

        ui.button("Save profile", icon="save", on_click=save).props('data-testid="profile-save"')


def _password() -> None:
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
            sent = await _send(inputs, result, "POST", ME_PASSWORD, {"current_password": current, "new_password": new})
            if sent is _FAILED:
                return
            set_errors(inputs, {})
            for key in ("access_token", "refresh_token"):  # auth revoked them all
                store.pop(key, None)
            _say(result, "Your password is changed. Sign in again with the new one.", True)
            ui.notify("Password changed: sign in again with the new one", type="positive")
            await asyncio.sleep(1.5)
            ui.navigate.to(session.login_url("/account", notice="password_changed"))

        ui.button("Change password", icon="lock_reset", on_click=submit).props('data-testid="password-submit"')


async def _api_keys(me: dict[str, Any]) -> None:
    rt, store = runtime.get(), app.storage.user
    held = [str(p) for p in me.get("permissions") or []]
    with ui.column().classes("w-full max-w-3xl gap-4") as section:
        with ui.card().classes("w-full gap-2").props('data-testid="api-key-form"'):
            a11y.heading("New API key")
            ui.label("A key acts as you, with only the permissions you give it (never more than you hold). "
                     + (f"You hold: {', '.join(held)}." if held else "You hold no permission a key could carry.")
                     ).classes("text-sm text-gray-500").props('data-testid="api-key-held"')
            inputs: dict[str, Any] = {
                "name": ui.input("Name", placeholder="e.g. backup script").props('data-testid="api-key-name"'),
                "permissions": ui.input("Permissions (comma-separated)", placeholder="tasks.read, tasks.write"
                                        ).props('data-testid="api-key-permissions"'),
                "expires_in_days": ui.number("Expires after (days; empty: never)", value=90, min=1,
                                             max=MAX_KEY_DAYS, precision=0).props(
                    'clearable data-testid="api-key-expires"'),
            }
            for element in inputs.values():
                element.classes("w-full")
            result = ui.label("").classes("text-sm").props('data-testid="api-key-result"')
            create_button = ui.button("Create key", icon="add")
            create_button.props('data-testid="api-key-create"')
        created = ui.card().classes("w-full gap-2 border-2 border-amber-500").props('data-testid="api-key-created"')
        created.set_visibility(False)

        @ui.refreshable
        async def listing() -> None:
            keys, failure = await _fetch(ME_API_KEYS)
            if failure is not None:
                ui.label(f"API keys are unavailable: {failure}").classes("text-negative")
                return
            if not keys:
                ui.label("You have no API keys yet.").classes("text-gray-500").props('data-testid="api-keys-empty"')
                return
            with ui.list().props('bordered separator data-testid="api-keys"').classes("w-full"):
                for key in keys:
                    _key_item(key_row(key))

        def _key_item(row: dict[str, str]) -> None:
            with ui.item().props(f'data-testid="api-key-row" data-key="{row["id"]}" data-status="{row["status"]}"'):
                with ui.item_section():
                    ui.item_label(f"{row['name']}  ·  {row['prefix']}…").classes("font-medium")
                    ui.item_label(f"permissions: {row['permissions']}").props("caption")
                    details = f"created {row['created']} · expires {row['expires']} · last used {row['last_used']}"
                    if row["revoked"]:
                        details += f" · revoked {row['revoked']}"
                    ui.item_label(details).props("caption")
                with ui.item_section().props("side"):
                    with ui.row().classes("items-center gap-2"):
                        color = {"active": "positive", "revoked": "negative"}.get(row["status"], "grey")
                        ui.badge(row["status"], color=color).props('data-testid="api-key-status"')
                        if row["status"] == "active":
                            ui.button("Revoke", icon="block", on_click=lambda r=row: confirm(r)).props(
                                'flat dense color=negative data-testid="api-key-revoke"')

        def confirm(row: dict[str, str]) -> None:
            with section, ui.dialog() as dialog, ui.card().props('data-testid="api-key-revoke-dialog"'):
                ui.label(f"Revoke the API key “{row['name']}”? Whatever uses it stops working at once.")

                async def revoke() -> None:
                    try:
                        await rt.gateway.send(store, "DELETE", ME_API_KEY.format(key_id=row["id"]))
                    except (ApiError, OSError) as exc:
                        ui.notify(f"Could not revoke the key: {exc}", type="negative")
                        return
                    finally:
                        dialog.close()
                    ui.notify(f"API key “{row['name']}” revoked", type="positive")
                    listing.refresh()

                with ui.row().classes("w-full justify-end"):
                    ui.button("Cancel", on_click=dialog.close).props("flat")
                    ui.button("Revoke", on_click=revoke).props('color=negative data-testid="api-key-revoke-confirm"')
            dialog.open()

        def reveal(key: str, name: str) -> None:
            created.clear()
            with created:
                a11y.heading(f"Your new API key “{name}”")
                ui.label("Copy it now: it is shown only this once and cannot be read again.").classes(
                    "text-warning font-medium").props('data-testid="api-key-warning"')
                def copy() -> None:
                    ui.clipboard.write(key)
                    ui.notify("Copied")

                with ui.input("API key", value=key).props('readonly data-testid="api-key-secret"').classes(
                        "w-full font-mono") as field:
                    with field.add_slot("append"):
                        ui.button(icon="content_copy", on_click=copy).props(
                            'flat round dense aria-label="Copy the key" data-testid="api-key-copy"')
                ui.button("I have copied it", on_click=hide).props('flat data-testid="api-key-hide"')
            created.set_visibility(True)

        def hide() -> None:
            created.clear()
            created.set_visibility(False)

        async def create() -> None:
            body, problems = key_request(inputs["name"].value, inputs["permissions"].value,
                                         inputs["expires_in_days"].value)
            set_errors(inputs, problems)
            result.text = ""
            if body is None:
                return
            answer = await _send(inputs, result, "POST", ME_API_KEYS, body)
            if answer is _FAILED:
                return
            inputs["name"].value, inputs["permissions"].value = "", ""
            reveal(str((answer or {}).get("key", "")), body["name"])
            listing.refresh()

        create_button.on_click(create)
        a11y.heading("Your API keys")
        await listing()


async def _preferences(schemas: Any, notifications: Any, shell: Any, failure: str | None) -> None:
    rt, store = runtime.get(), app.storage.user
    with ui.card().classes("w-full max-w-2xl gap-2").props('data-testid="prefs-notifications"'):
        a11y.heading("Notifications")
        modules = (schemas.get("modules") or {}) if isinstance(schemas, dict) else {}
        entry = modules.get("notifications") or {}
        schema = entry.get("user_schema") or entry.get("schema")  # no user schema: the module's, per person
        if failure is not None or not schema or not isinstance(notifications, dict):
            ui.label(f"Your notification preferences are unavailable: {failure or 'no schema'}").classes(
                "text-negative")
        else:
            current = dict(notifications.get("values") or {})
            form = AutoForm(schema, values=current)
            state = ui.label(saved_state(notifications)).classes("text-sm text-gray-500").props(
                'data-testid="prefs-state"')

            async def send(body: dict[str, Any]) -> Any:
                changes = changed_values(body, current)
                if not changes:
                    return {"unchanged": True}
                return await rt.gateway.send(store, "PATCH", MY_SETTINGS.format(module="notifications"), changes)

            async def save() -> None:
                try:
                    answer = await form.submit(send)
                except OSError as exc:
                    ui.notify(f"Unavailable: {exc}", type="negative")
                    return
                if answer is None:
                    return
                if answer.get("unchanged"):
                    ui.notify("Nothing changed")
                    return
                current.clear()
                current.update(answer.get("values") or {})
                state.text = saved_state(answer)
                ui.notify("Notification preferences saved", type="positive")

            ui.button("Save", icon="save", on_click=save).props('data-testid="prefs-save"')

    with ui.card().classes("w-full max-w-2xl gap-2").props('data-testid="prefs-appearance"'):
        a11y.heading("Appearance")
        values = (shell.get("values") or {}) if isinstance(shell, dict) else {}
        chosen = str(values.get("theme") or store.get("theme") or "system")
        theme = ui.select(THEMES, value=chosen if chosen in THEMES else "system", label="Theme").classes(
            "w-64").props('data-testid="prefs-theme"')

        async def save_theme() -> None:
            try:
                await rt.gateway.send(store, "PATCH", MY_SETTINGS.format(module="shell"), {"theme": theme.value})
            except (ApiError, OSError) as exc:
                ui.notify(f"Could not save the theme: {exc}", type="negative")
                return
            store["theme"] = theme.value  # what `theming` reads on the next page
            ui.navigate.to("/account?tab=preferences")

        ui.button("Save", icon="save", on_click=save_theme).props('data-testid="prefs-theme-save"')


async def render(user: Any, tab: str) -> None:
    me_body, schemas, notifications, shell = await asyncio.gather(
        _fetch(ME), _fetch(SETTINGS_SCHEMAS), _fetch(MY_SETTINGS.format(module="notifications")),
        _fetch(MY_SETTINGS.format(module="shell")))
    async with layout.frame(user, "My account"):
        me, failure = me_body
        if failure is not None or not isinstance(me, dict):
            ui.label(f"Your account is unavailable: {failure}").classes("text-negative").props(
                'data-testid="account-unavailable"')
            return
        with ui.tabs().props('align=left outside-arrows mobile-arrows data-testid="account-tabs"').classes(
                "w-full") as tabs:
            for name, (label, icon) in TABS.items():
                ui.tab(name, label=label, icon=icon).props(f'data-testid="account-tab-{name}"')
        with ui.tab_panels(tabs, value=tab if tab in TABS else "profile").classes("w-full bg-transparent"):
            with ui.tab_panel("profile"):
                _profile(me)
            with ui.tab_panel("password"):
                _password()
            with ui.tab_panel("twofactor"):
                twofactor.section(me)
            with ui.tab_panel("keys"):
                await _api_keys(me)
            with ui.tab_panel("apps"):
                await my_apps.section()
            with ui.tab_panel("preferences"):
                await _preferences(schemas[0], notifications[0], shell[0], schemas[1] or notifications[1])


def register() -> None:
    @ui.page("/account")
    async def account_page(request: Request, tab: str = "profile") -> RedirectResponse | None:
        here = "/account" + (f"?tab={tab}" if tab in TABS and tab != "profile" else "")
        user = await session.require(here, request)
        if isinstance(user, RedirectResponse):
            return user
        await render(user, tab)
        return None
