"""My account's API keys tab: create one (shown once), list them, revoke one."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import a11y, local_time, runtime
from webos_shell.pages.account.calls import FAILED, ME_API_KEY, ME_API_KEYS, fetch, send
from webos_shell.pages.auth import set_errors
from webos_shell.tabular import parse_moment

MAX_KEY_DAYS = 3650


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


def key_row(key: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """One API key (auth's public shape) as the list shows it: texts, and its dates (`details`) as
    `local_time` parts, which the person's browser says in their own time zone."""
    revoked = key.get("revoked_at")
    return {
        "id": re.sub(r"[^\w-]", "", str(key.get("id") or "")),
        "name": str(key.get("name") or ""),
        "prefix": str(key.get("prefix") or ""),
        "permissions": ", ".join(key.get("permissions") or []) or "none",
        "details": local_time.text("created ", local_time.moment(key.get("created_at")),
                                   " · expires ", local_time.moment(key.get("expires_at"), "never"),
                                   " · last used ", local_time.moment(key.get("last_used_at"), "never"),
                                   [" · revoked ", local_time.instant(revoked)] if revoked else []),
        "status": key_status(key, now),
    }


async def section(me: dict[str, Any]) -> None:
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
            keys, failure = await fetch(ME_API_KEYS)
            if failure is not None:
                ui.label(f"API keys are unavailable: {failure}").classes("text-negative")
                return
            if not keys:
                ui.label("You have no API keys yet.").classes("text-gray-500").props('data-testid="api-keys-empty"')
                return
            with ui.list().props('bordered separator data-testid="api-keys"').classes("w-full"):
                for key in keys:
                    _key_item(key_row(key))

        def _key_item(row: dict[str, Any]) -> None:
            with ui.item().props(f'data-testid="api-key-row" data-key="{row["id"]}" data-status="{row["status"]}"'):
                with ui.item_section():
                    ui.item_label(f"{row['name']}  ·  {row['prefix']}…").classes("font-medium")
                    ui.item_label(f"permissions: {row['permissions']}").props("caption")
                    with ui.item_label().props('caption data-testid="api-key-dates"'):
                        local_time.MomentText(row["details"], tag="span")
                with ui.item_section().props("side"):
                    with ui.row().classes("items-center gap-2"):
                        color = {"active": "positive", "revoked": "negative"}.get(row["status"], "grey")
                        ui.badge(row["status"], color=color).props('data-testid="api-key-status"')
                        if row["status"] == "active":
                            ui.button("Revoke", icon="block", on_click=lambda r=row: confirm(r)).props(
                                'flat dense color=negative data-testid="api-key-revoke"')

        def confirm(row: dict[str, Any]) -> None:
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
            answer = await send(inputs, result, "POST", ME_API_KEYS, body)
            if answer is FAILED:
                return
            inputs["name"].value, inputs["permissions"].value = "", ""
            reveal(str((answer or {}).get("key", "")), body["name"])
            listing.refresh()

        create_button.on_click(create)
        a11y.heading("Your API keys")
        await listing()
