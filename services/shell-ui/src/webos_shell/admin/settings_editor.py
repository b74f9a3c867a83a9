"""Settings editor: every system section and every module's settings
through AutoForm, from the schemas the settings service serves. Secrets
arrive masked and are sent back only when someone typed a new value. Each
section has its history, with diffs and rollback (`settings_history`)."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_shell import a11y, endpoints, runtime
from webos_shell.admin import settings_history
from webos_shell.autoform import AutoForm

MASK_CHARS = {"*", "•"}


def changed_only(body: dict[str, Any], original: dict[str, Any], secrets: set[str]) -> dict[str, Any]:
    """Drop secret fields still holding their masked value."""
    return {k: v for k, v in body.items()
            if not (k in secrets and (v == original.get(k) or (isinstance(v, str) and set(v) <= MASK_CHARS)))}


async def _editor(title: str, schema: dict[str, Any] | None, path: str) -> None:
    rt, store = runtime.get(), app.storage.user
    with ui.expansion(title, icon="tune").classes("w-full").props(f'data-testid="settings-{title}"'):
        if not schema:
            ui.label("No settings schema").classes("text-gray-500")
            return
        try:
            body = await rt.gateway.get(store, path) or {}
        except (ApiError, OSError) as exc:
            ui.label(f"unavailable: {exc}").classes("text-negative")
            body = {}
        values = body.get("values", {}) if isinstance(body, dict) else {}
        form = AutoForm(schema, values=values)
        secrets = {s.name for s in form.specs if s.kind == "secret"}

        async def save() -> None:
            result = await form.submit(
                lambda data: rt.gateway.send(store, "PATCH", path, changed_only(data, values, secrets)))
            if result is not None:
                ui.notify(f"{title}: saved", type="positive")

        with ui.row().classes("gap-2"):
            ui.button("Save", on_click=save).props(f'data-testid="save-{title}"')
            settings_history.button(title, path)


async def render(user: User) -> None:
    rt = runtime.get()
    try:
        schemas = await rt.gateway.get(app.storage.user, endpoints.SETTINGS_SCHEMAS)
    except (ApiError, OSError) as exc:
        ui.label(f"The settings service is unavailable: {exc}").classes("text-negative")
        schemas = {}
    a11y.heading("System")
    for section, schema in (schemas.get("system") or {}).items():
        await _editor(section, schema, endpoints.SYSTEM_SETTINGS.format(section=section))
    a11y.heading("Modules")
    modules = {name: entry.get("schema") for name, entry in (schemas.get("modules") or {}).items()}
    for manifest in rt.registry.modules() if rt.registry else []:
        modules.setdefault(manifest.name, manifest.settings_schema)
    for name, schema in sorted(modules.items()):
        await _editor(name, schema, endpoints.MODULE_SETTINGS.format(module=name))
