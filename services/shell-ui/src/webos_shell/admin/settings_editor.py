"""Settings editor: system settings and each module's settings through
AutoForm, from their JSON Schemas. Secrets arrive masked and are sent
back only when someone typed a new value."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.identity import User
from webos_shell import endpoints, runtime
from webos_shell.autoform import AutoForm
from webos_shell.gateway import ApiError

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
            values = await rt.gateway.get(store, path) or {}
        except (ApiError, OSError) as exc:
            ui.label(f"unavailable: {exc}").classes("text-negative")
            values = {}
        values = values.get("values", values) if isinstance(values, dict) else {}
        form = AutoForm(schema, values=values)
        secrets = {s.name for s in form.specs if s.kind == "secret"}

        async def save() -> None:
            result = await form.submit(
                lambda body: rt.gateway.send(store, "PUT", path, changed_only(body, values, secrets)))
            if result is not None:
                ui.notify(f"{title}: saved", type="positive")

        ui.button("Save", on_click=save)


async def render(user: User) -> None:
    rt = runtime.get()
    try:
        system_schema = await rt.gateway.get(app.storage.user, endpoints.SYSTEM_SETTINGS_SCHEMA)
    except (ApiError, OSError):
        system_schema = None
    await _editor("System", system_schema, endpoints.SYSTEM_SETTINGS)
    for manifest in rt.registry.modules() if rt.registry else []:
        await _editor(manifest.name, manifest.settings_schema, endpoints.MODULE_SETTINGS.format(module=manifest.name))
