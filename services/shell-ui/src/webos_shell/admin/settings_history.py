"""A settings section's history in the editor: each version with who made it,
when, how (a save, a merge, a rollback) and what changed (`key: old → new`,
secrets masked by the settings service), and a rollback to any earlier
version, confirmed first. The settings service keeps the history and does
the rollback (`…/history`, `…/rollback`); this only shows and asks."""

from __future__ import annotations

import json
from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError
from webos_shell import runtime
from webos_shell.choices import humanise

LIMIT = 20  # versions shown, newest first


def shown(value: Any) -> str:
    """A value as a person reads it in a diff: absent as "—", text as is, the rest as JSON."""
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def change_lines(entry: dict[str, Any]) -> list[str]:
    return [f"{change['key']}: {shown(change.get('old'))} → {shown(change.get('new'))}"
            for change in entry.get("changes") or []]


def heading(entry: dict[str, Any]) -> str:
    action = str(entry.get("action") or "save")
    how = f"rolled back to v{action.split(':', 1)[1]}" if action.startswith("rollback:") else humanise(action)
    return f"v{entry.get('version')} · {str(entry.get('at', ''))[:16].replace('T', ' ')} · {how}"


def button(title: str, path: str) -> None:
    """The section's History button; the dialog loads when opened."""
    ui.button("History", icon="history", on_click=lambda: _open(title, path)).props(
        f'flat data-testid="history-{title}"')


async def _open(title: str, path: str) -> None:
    rt, store = runtime.get(), app.storage.user
    try:
        body = await rt.gateway.get(store, f"{path}/history", limit=LIMIT)
    except (ApiError, OSError) as exc:
        ui.notify(f"{title}: history unavailable: {exc}", type="negative")
        return
    entries = body.get("items", []) if isinstance(body, dict) else []
    with ui.dialog() as dialog, ui.card().classes("w-[40rem] max-w-full").props(
            f'data-testid="history-dialog" aria-label="History of {title}"'):
        ui.label(f"History of {title}").classes("text-lg font-medium")
        if not entries:
            ui.label("No change was made yet").classes("text-gray-500")
        for index, entry in enumerate(entries):
            with ui.column().classes("w-full gap-0 border-b py-2").props(
                    f'data-testid="history-entry" data-version="{entry.get("version")}"'):
                ui.label(heading(entry)).classes("font-medium text-sm")
                for line in change_lines(entry):
                    ui.label(line).classes("font-mono text-xs")
                if index:  # the first is what is in force now
                    ui.button(f"Roll back to v{entry.get('version')}", icon="undo",
                              on_click=lambda _, v=entry.get("version"): _confirm(dialog, title, path, v)).props(
                        'flat dense data-testid="history-rollback"')
        ui.button("Close", on_click=dialog.close).props("flat")
    dialog.open()


def _confirm(history: ui.dialog, title: str, path: str, version: Any) -> None:
    with ui.dialog() as dialog, ui.card():
        ui.label(f"Put {title} back as it was in v{version}? This is saved as a new version.")
        with ui.row():
            ui.button("Roll back", on_click=lambda: _rollback(dialog, history, title, path, version)).props(
                'color=negative data-testid="history-rollback-confirm"')
            ui.button("Cancel", on_click=dialog.close).props("flat")
    dialog.open()


async def _rollback(dialog: ui.dialog, history: ui.dialog, title: str, path: str, version: Any) -> None:
    rt, store = runtime.get(), app.storage.user
    try:
        await rt.gateway.send(store, "POST", f"{path}/rollback", {"version": version})
    except (ApiError, OSError) as exc:
        ui.notify(f"{title}: {exc}", type="negative")
        return
    dialog.close()
    history.close()
    ui.notify(f"{title}: rolled back to v{version}", type="positive")
    ui.navigate.reload()  # the form shows the values now in force
