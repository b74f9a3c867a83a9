"""The record page of a module collection, `/m/<module>/<collection>/<id>`: the record in
AutoForm (view mode, and edit mode over the update model), saved over the version read
(`If-Match`; a 412 opens the conflict dialog), to the trash and back, the panels and actions
its module adds (`ShellComponent(slot="record")`, framed), and its audit trail (the events
service's log of the record, people by their display name)."""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError, SessionExpired, if_match
from webos_common.identity import User
from webos_shell import a11y, components, endpoints, local_time, permissions, pickers, record_history, runtime
from webos_shell.autoform import AutoForm
from webos_shell.collection_api import record_noun
from webos_shell.collections_ui import CollectionRef
from webos_shell.conflict import open_conflict
from webos_shell.schema_fields import fields_from_schema, server_errors

# what the view mode leaves out: ids and audit fields (the history says them), sharing (the grid's Share),
# the workflow actions the reader may take (buttons)
VIEW_HIDDEN = ("id", "_id", "owner_id", "created_by", "updated_by", "deleted_at", "deleted_by", "version",
               "shares", "assignees", "actions")


def title_of(record: dict[str, Any]) -> str:
    return str(record.get("title") or record.get("name") or record.get("label") or record.get("id") or "")


class RecordPage:
    def __init__(self, ref: CollectionRef, user: User, record_id: str) -> None:
        self.ref, self.user, self.rid = ref, user, record_id
        self.endpoint = ref.collection.endpoint.rstrip("/")
        self.noun = record_noun(ref.collection)
        self.api = ref.api
        # a module may serve no edit of its records (an order changes only through its workflow)
        self.writable = permissions.can_write(user, ref.collection) and self.api.has("PATCH", "/{}")
        self.fields = fields_from_schema(ref.schema())
        self.labels = {s.name: s.label for s in self.fields}
        self.specs = {s.name: s for s in self.fields}
        self.record: dict[str, Any] = {}
        self.trashed = False
        self.shown = 0  # history entries on the page

    @property
    def here(self) -> str:
        return f"/m/{self.ref.manifest.name}/{self.ref.collection.name}/{self.rid}"

    async def _get(self, path: str) -> Any:
        return await runtime.get().gateway.get(app.storage.user, path)

    async def load(self) -> bool:
        """The record, or its last state in the trash (from its history); False when there is none."""
        try:
            self.record, self.trashed = await self._get(f"{self.endpoint}/{self.rid}"), False
            return True
        except ApiError as exc:
            if exc.status not in (404, 422):
                raise
        last = await self._last_logged()
        if last is None or not str(last.get("topic", "")).endswith(":deleted"):
            return False
        self.record, self.trashed = dict(last["payload"]), True
        return True

    async def _last_logged(self, within: float = 20.0) -> dict[str, Any] | None:
        """The newest logged event of a record that is gone. A record the log knows but not yet
        as deleted was trashed a moment ago (the log is written from the bus): its deletion is
        waited for. An id the log never saw is no record at all, at once."""
        for _ in range(int(within / 0.5)):
            events = await self.history()
            last = next((e for e in events if "id" in (e.get("payload") or {})), None)
            if last is None or str(last.get("topic", "")).endswith(":deleted"):
                return last
            await asyncio.sleep(0.5)
        return last

    async def logged(self, known: int | None, within: float = 10.0) -> list[dict[str, Any]]:
        """The history once it holds more than `known` events, or (`known` None) the event of the
        version shown; or as it is after `within` seconds. The log is written from the bus, a
        moment after the write: a page opened right after a create must not stay empty."""
        events = await self.history()
        for _ in range(int(within / 0.25)):
            if self._caught_up(events, known):
                break
            await asyncio.sleep(0.25)
            events = await self.history()
        return events

    def _caught_up(self, events: list[dict[str, Any]], known: int | None) -> bool:
        if known is not None:
            return len(events) > known
        if self.trashed:  # the record itself came from the log
            return True
        version = self.record.get("version")
        if not isinstance(version, int):
            return bool(events)
        logged = [(e.get("payload") or {}).get("version") for e in events if isinstance(e.get("payload"), dict)]
        return any(isinstance(v, int) and v >= version for v in logged)

    async def history(self) -> list[dict[str, Any]]:
        try:
            body = await self._get(endpoints.RECORD_HISTORY.format(id=self.rid))
        except (ApiError, OSError):
            return []
        return list(body.get("items", [])) if isinstance(body, dict) else []

    # -- drawing ----------------------------------------------------------------------
    async def draw(self) -> None:
        module, collection = self.ref.manifest.name, self.ref.collection
        with ui.row().classes("w-full items-center gap-2"):
            ui.link(collection.label, f"/m/{module}/{collection.name}").props('data-testid="record-back"')
            ui.label("›")
            ui.label(title_of(self.record)).classes("font-medium").props('data-testid="record-title"')
            ui.space()
            self.actions = ui.row().classes("gap-2")
        if self.trashed:
            ui.label(f"This {self.noun} is in the trash.").classes("text-warning").props(
                'data-testid="record-trashed"')
        with ui.row().classes("w-full gap-4 items-start max-md:flex-col"):
            with ui.card().classes("grow basis-96 min-w-0 max-md:w-full"):
                self.body = ui.column().classes("w-full")
            with ui.column().classes("basis-80 max-md:w-full gap-4"):
                await self._panels()
                with ui.card().classes("w-full").props('data-testid="record-history"'):
                    a11y.heading("History")
                    self.trail = ui.column().classes("w-full gap-2")
        self.view()
        events = await self.history()
        await self._draw_trail(events)
        if not self._caught_up(events, None):  # opened right after the write: the page now, its entry soon
            ui.timer(0.25, self.draw_history, once=True)

    def _buttons(self, editing: bool) -> None:
        self.actions.clear()
        with self.actions:
            if self.trashed and self.writable:
                ui.button("Restore", icon="restore_from_trash", on_click=self.restore).props(
                    'data-testid="record-restore"')
            elif editing:
                ui.button("Cancel", on_click=self.view).props('flat data-testid="record-cancel"')
                ui.button("Save", icon="save", on_click=self.save).props('data-testid="record-save"')
            else:
                for action in self.record.get("actions") or []:  # what the reader may do now (a workflow)
                    if isinstance(action, str) and self.api.action(self.rid, action) is not None:
                        ui.button(action.replace("_", " ").capitalize(),
                                  on_click=lambda _, a=action: self.confirm_action(a)).props(
                            f'outline data-testid="record-action" data-action="{action}"')
                if self.writable:
                    ui.button("Edit", icon="edit", on_click=self.edit).props('data-testid="record-edit"')
                    ui.button("Move to trash", icon="delete", on_click=self.trash).props(
                        'flat color=negative data-testid="record-delete"')

    def view(self) -> None:
        self.body.clear()
        with self.body:
            AutoForm(self.ref.schema(), values=self.record, readonly=True, exclude=VIEW_HIDDEN)
        self._buttons(editing=False)

    def edit(self) -> None:
        self.body.clear()
        with self.body:
            self.form = AutoForm(self.ref.schema("update"), values=self.record)
        self._buttons(editing=True)

    async def _panels(self) -> None:
        """What the module adds to its record pages (`ShellComponent(slot="record")`)."""
        manifest = self.ref.manifest
        for view in components.views(manifest.ui_components, self.user, slot="record").values():
            if view.collection in (None, self.ref.collection.name) and not self.trashed:
                with ui.card().classes("w-full p-0").props(f'data-testid="record-panel" data-view="{view.name}"'):
                    await components.render(view, self.ref, self.user, {"id": self.rid}, manifest)

    async def draw_history(self, known: int | None = None) -> None:
        """The audit trail once it has the last write (`known`: the entries shown before it)."""
        await self._draw_trail(await self.logged(known))

    async def _draw_trail(self, events: list[dict[str, Any]]) -> None:
        found = record_history.entries(events)
        self.shown = len(found)
        names = await pickers.display_names(sorted({e.who for e in found if e.who}))
        self.trail.clear()
        with self.trail:
            if not found:
                ui.label("No changes recorded yet.").classes("text-sm")
            for entry in found:
                with ui.column().classes("w-full gap-0").props('data-testid="history-entry"'):
                    ui.label(entry.sentence(names, self.labels)).classes("text-sm font-medium")
                    local_time.MomentText([local_time.instant(entry.when)] if entry.when else []).classes(
                        "text-xs text-gray-600 dark:text-gray-300")
                    for change in entry.changes:
                        local_time.MomentText(record_history.describe(change, self.specs)).classes("text-sm")

    # -- writing ----------------------------------------------------------------------
    async def _send(self, method: str, path: str, body: Any = None, version: int | None = None) -> Any:
        return await runtime.get().gateway.send(app.storage.user, method, path, body, headers=if_match(version))

    async def save(self) -> None:
        changes = self.form.changes(self.record, self.fields)
        if changes is None:
            return
        if not changes:
            self.view()
            return
        await self._write(changes, self.record.get("version"))

    async def _write(self, changes: dict[str, Any], version: Any) -> None:
        try:
            saved = await self._send("PATCH", f"{self.endpoint}/{self.rid}", changes,
                                     int(version) if version is not None else None)
        except SessionExpired:
            ui.navigate.to("/login")
            return
        except ApiError as exc:
            if exc.status == 412:
                details = (exc.body.get("error") or {}).get("details") if isinstance(exc.body, dict) else None
                open_conflict(details, changes, current=lambda: self._get(f"{self.endpoint}/{self.rid}"),
                              reload=self.reload, overwrite=lambda v: self._write(changes, v), specs=self.fields)
            elif exc.status == 422:
                self.form.show_errors(server_errors(exc.body) or {"": str(exc)})
            else:
                ui.notify(f"Not saved: {exc}", type="negative")
            return
        self.record = dict(saved or {}) or self.record
        ui.notify(f"Saved the {self.noun}", type="positive")
        self.view()
        await self.draw_history(self.shown)

    async def reload(self) -> None:
        if await self.load():
            self.view()
            await self.draw_history(self.shown)

    async def trash(self) -> None:
        await self._change("DELETE", f"{self.endpoint}/{self.rid}", f"Moved the {self.noun} to the trash")

    async def restore(self) -> None:
        await self._change("POST", f"{self.endpoint}/{self.rid}/restore", f"Restored the {self.noun}")

    def confirm_action(self, action: str) -> None:
        """A workflow step asked before it is taken (it cannot be edited back), with a reason where
        the module keeps one."""
        verb = action.replace("_", " ")
        with ui.dialog() as dialog, ui.card().classes("w-96").props('data-testid="action-dialog"'):
            ui.label(f"{verb.capitalize()} this {self.noun}?").classes("text-lg font-semibold")
            reason = ui.textarea("Reason (optional)").classes("w-full").props(
                'data-testid="action-reason" maxlength=1000') if self.api.reasoned(action) else None

            async def go() -> None:
                dialog.close()
                request = self.api.action(self.rid, action, reason.value.strip() if reason else "")
                if request is not None:
                    await self._change(request[0], request[1], f"Done: {verb} the {self.noun}", request[2],
                                       logged=False)

            with ui.row().classes("w-full justify-end"):
                ui.button("Back", on_click=dialog.close).props("flat")
                ui.button(verb.capitalize(), on_click=go).props('data-testid="action-confirm"')
        dialog.open()

    async def _change(self, method: str, path: str, done: str, body: Any = None, *, logged: bool = True) -> None:
        """`logged`: wait for the change's entry in the record's log (trash and restore: the page is
        drawn from the log when the record is in the trash). A workflow step writes no entry of its
        own to the record's trail: waiting for one held the page 10 s after each action."""
        try:
            await self._send(method, path, body)
        except ApiError as exc:
            ui.notify(f"Not done: {exc}", type="negative")
            return
        ui.notify(done, type="positive")
        if logged:
            await self.logged(self.shown)
        ui.navigate.to(self.here)  # drawn again: trashed (restore) or live (edit, trash, module panels)
