"""The sharing dialog of an owned record (a collection whose rows carry `shares`):
people and roles it is shared with (read or write), and the people it is assigned to,
chosen with the user and role pickers; saved with `PUT <endpoint>/<id>/shares` and
`PUT <endpoint>/<id>/assignees` (each list replaces the old one; a removed share is
revoked at once), each over the version the dialog was opened with: someone who changed the
lists meanwhile is a 412 said in a toast, not overwritten."""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError, if_match
from webos_shell import runtime
from webos_shell.pickers import role_picker, user_picker


def _with(shares: list[dict[str, str]], kind: str, access: str) -> list[str]:
    return [s["id"] for s in shares if s.get("kind") == kind and s.get("access") == access]


async def open_share_dialog(endpoint: str, row: dict[str, Any], done: Any = None) -> None:
    shares = list(row.get("shares") or [])
    with ui.dialog(value=True) as dialog, ui.card().classes("w-[36rem]").props('data-testid="share-dialog"'):
        ui.label(f"Share and assign · {row.get('title') or row.get('name') or row.get('id')}").classes(
            "text-lg font-medium")
        readers = await user_picker("People who may read", _with(shares, "user", "read"), multiple=True,
                                    testid="share-readers")
        writers = await user_picker("People who may change it", _with(shares, "user", "write"), multiple=True,
                                    testid="share-writers")
        roles = await role_picker("Roles who may read", _with(shares, "role", "read"), testid="share-roles")
        role_writers = await role_picker("Roles who may change it", _with(shares, "role", "write"),
                                         testid="share-role-writers")
        assignees = await user_picker("Assigned to", list(row.get("assignees") or []), multiple=True,
                                      testid="share-assignees")

        async def save() -> None:
            body = [{"kind": "user", "id": i, "access": "read"} for i in readers.value or []]
            body += [{"kind": "user", "id": i, "access": "write"} for i in writers.value or []]
            body += [{"kind": "role", "id": r, "access": "read"} for r in roles.value or []]
            body += [{"kind": "role", "id": r, "access": "write"} for r in role_writers.value or []]
            gateway, tokens = runtime.get().gateway, app.storage.user
            version = row.get("version")
            try:
                shared = await gateway.send(tokens, "PUT", f"{endpoint}/{row['id']}/shares", {"shares": body},
                                            headers=if_match(version))
                await gateway.send(tokens, "PUT", f"{endpoint}/{row['id']}/assignees",
                                   {"assignees": list(assignees.value or [])},
                                   headers=if_match(shared.get("version") if version is not None else None))
            except ApiError as exc:
                ui.notify(exc.message, type="negative")
                return
            ui.notify("Shared", type="positive")
            dialog.close()
            if done is not None:
                await done()

        ui.button("Save", on_click=save).props('data-testid="share-save"')
