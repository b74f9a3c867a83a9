"""Dialogs that create a record of a module collection through AutoForm."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import app, ui

from webos_shell import collections_ui, runtime
from webos_shell.autoform import AutoForm
from webos_shell.collection_api import record_noun


async def open_create(module: str, collection: str | None,
                      on_created: Callable[[Any], Awaitable[None]] | None = None) -> None:
    ref = collections_ui.find(module, collection)
    if ref is None:
        ui.notify(f"{module} has no collection {collection or ''} available", type="warning")
        return
    rt = runtime.get()
    with ui.dialog() as dialog, ui.card().classes("w-[32rem] max-w-full").props('data-testid="create-dialog"'):
        ui.label(f"New {record_noun(ref.collection)}").classes("text-lg font-semibold")
        form = AutoForm(ref.schema("create"))
        key = {"Idempotency-Key": uuid.uuid4().hex}  # one per dialog: a double click or a retry makes one record

        async def save() -> None:
            endpoint = ref.collection.endpoint
            created = await form.submit(
                lambda body: rt.gateway.send(app.storage.user, "POST", endpoint, body, headers=key))
            if created is not None:
                dialog.close()
                ui.notify(f"{ref.collection.label}: created", type="positive")
                if on_created:
                    await on_created(created)

        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            ui.button("Create", on_click=save).props('data-testid="create-submit"')
    dialog.open()
