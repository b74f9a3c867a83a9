"""Record rules (after Odoo's): per module whose settings carry `record_rules`, the rules in
force — holders of a role may read or write every record whose field equals a value — with a
role picker, never free text for the role. Rules live in the module's settings, so saving
here is the settings service's PATCH (validated there: a bad rule is refused naming it) and
they apply at once on every replica."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_common.identity import User
from webos_shell import a11y, endpoints, pickers, runtime
from webos_shell.admin.calls import call


def _ruled_modules(schemas: dict[str, Any]) -> list[str]:
    modules = schemas.get("modules") or {}
    return sorted(name for name, entry in modules.items()
                  if "record_rules" in ((entry or {}).get("schema") or {}).get("properties", {}))


def _describe(rule: dict[str, Any]) -> str:
    where = ", ".join(f"{k} = {v}" for k, v in (rule.get("where") or {}).items()) or "every record"
    return f"{rule['role']} may {rule.get('access', 'read')}: {where}"


async def _module(name: str) -> None:
    path = endpoints.MODULE_SETTINGS.format(module=name)
    rt = runtime.get()

    @ui.refreshable
    async def rules() -> None:
        try:
            body = await rt.gateway.get(app.storage.user, path) or {}
        except (ApiError, OSError) as exc:
            ui.label(f"unavailable: {exc}").classes("text-negative")
            return
        current: list[dict[str, Any]] = list((body.get("values") or {}).get("record_rules") or [])

        async def save(new: list[dict[str, Any]]) -> None:
            if await call("PATCH", path, {"record_rules": new}, done="Record rules saved"):
                rules.refresh()

        if not current:
            ui.label("No rules: people see what they own, what is shared with or assigned to them").classes(
                "text-sm text-gray-500")
        for i, rule in enumerate(current):
            with ui.row().classes("items-center gap-2").props(f'data-testid="rule-{name}-{i}"'):
                ui.label(_describe(rule))
                ui.button(icon="delete", on_click=lambda i=i: save(current[:i] + current[i + 1:])).props(
                    f'flat dense color=negative aria-label="Delete this rule" data-testid="rule-delete-{name}-{i}"')
        with ui.row().classes("items-end gap-2 w-full").props(f'data-testid="rule-new-{name}"'):
            role = await pickers.role_picker("Role", multiple=False, testid=f"rule-role-{name}")
            role.classes(replace="min-w-[12rem]")
            access = ui.select({"read": "read", "write": "read and write"}, value="read", label="Access").props(
                f'data-testid="rule-access-{name}"').classes("min-w-[10rem]")
            field = ui.input("Field").props(f'data-testid="rule-field-{name}"')
            value = ui.input("Equals").props(f'data-testid="rule-value-{name}"')

            async def add() -> None:
                where = {field.value.strip(): value.value} if (field.value or "").strip() else {}
                await save([*current, {"role": role.value, "access": access.value, "where": where}])

            ui.button("Add rule", icon="add", on_click=add).props(f'data-testid="rule-add-{name}"')

    with ui.card().classes("w-full").props(f'data-testid="record-rules-{name}"'):
        a11y.heading(name)
        await rules()


async def render(user: User) -> None:
    try:
        schemas = await runtime.get().gateway.get(app.storage.user, endpoints.SETTINGS_SCHEMAS) or {}
    except (ApiError, OSError) as exc:
        ui.label(f"The settings service is unavailable: {exc}").classes("text-negative")
        return
    ruled = _ruled_modules(schemas)
    if not ruled:
        ui.label("No module offers record rules").classes("text-gray-500")
    for name in ruled:
        await _module(name)
