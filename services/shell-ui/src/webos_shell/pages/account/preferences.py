"""My account's preferences tab: the person's own notification settings (through AutoForm,
only what they changed is saved) and theme."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import a11y, runtime
from webos_shell.autoform import AutoForm
from webos_shell.pages.account.calls import MY_SETTINGS

THEMES = {"system": "Follow the browser", "light": "Light", "dark": "Dark"}


def changed_values(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Only what the person changed: the rest keeps following the defaults."""
    return {k: v for k, v in body.items() if current.get(k) != v}


def saved_state(settings: dict[str, Any]) -> str:
    """A settings read (`values`, `explicit`, `version`) in words."""
    own = sorted((settings.get("explicit") or {}).keys())
    if not own:
        return "Everything follows the defaults: nothing of your own is saved yet."
    return f"Saved (version {settings.get('version', '?')}). Your own choices: {', '.join(own)}."


async def section(schemas: Any, notifications: Any, shell: Any, failure: str | None) -> None:
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
