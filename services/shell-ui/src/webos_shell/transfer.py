"""Import and export in the DataExplorer. The work is the module host's (the
routes it generates for every collection: `<endpoint>/import/preview`,
`/import/dry-run`, `/import`, `/export`); the shell only drives them:

* Import: upload a .csv or .xlsx, map its columns to the fields (guessed by
  name), a dry run lists each bad row (row, field, message), then the import
  runs as a background task: a progress bar follows its record (polled, and
  moved by the live `task:progress` push), and the person is notified when it
  ends; bad rows are skipped and listed.
* Export: the whole filtered list (not the page), CSV or Excel. Up to
  `EXPORT_AT_ONCE` rows it downloads at once; more goes to the person's
  `Exports/` folder as a background task, with a notification linking there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from nicegui import app, context, events, ui

from webos_common.clients.session import ApiError, SessionExpired
from webos_shell import runtime, session, tabular

EXPORT_AT_ONCE = 5_000  # rows an export downloads at once; above it, a background task writes it to Files
MAX_FILE = 10 * 1024 * 1024  # the gateway's body limit
TASK_PATH = "/api/events/tasks/{}"
ERROR_COLUMNS = [{"name": "row", "label": "Row", "field": "row", "align": "left"},
                 {"name": "field", "label": "Field", "field": "field", "align": "left"},
                 {"name": "message", "label": "Problem", "field": "message", "align": "left"}]


async def _call(method: str, path: str, **kwargs: Any) -> Any:
    try:
        return await runtime.get().gateway.request(app.storage.user, method, path, **kwargs)
    except SessionExpired:
        ui.navigate.to("/login")
    except ApiError as exc:
        ui.notify(str(exc), type="negative")
    return None


class ImportDialog:
    def __init__(self, endpoint: str, label: str, user_id: str, on_done: Any) -> None:
        self.endpoint, self.label, self.user_id, self.on_done = endpoint, label, user_id, on_done
        self.file: tuple[str, bytes] | None = None
        self.mapping: dict[str, str] = {}
        self.task: dict[str, Any] = {}
        with ui.dialog() as self.dialog, ui.card().classes("w-[44rem] max-w-full").props(
                'data-testid="import-dialog"'):
            ui.label(f"Import into {label}").classes("text-lg font-semibold")
            ui.upload(auto_upload=True, max_file_size=MAX_FILE, label="A .csv or .xlsx file",
                      on_upload=self._uploaded).props(
                'accept=".csv,.xlsx" flat bordered data-testid="import-upload"').classes("w-full")
            self.map_box = ui.column().classes("w-full gap-1").props('data-testid="import-mapping"')
            self.summary = ui.label("").props('data-testid="import-summary"')
            self.bar = ui.linear_progress(0, show_value=False).props('data-testid="import-progress"')
            self.bar.visible = False
            self.errors = ui.table(columns=ERROR_COLUMNS, rows=[], row_key="key").classes("w-full max-h-64").props(
                'dense flat data-testid="import-errors"')
            self.errors.visible = False
            with ui.row().classes("w-full justify-end"):
                ui.button("Close", on_click=self.dialog.close).props("flat")
                self.dry = ui.button("Dry run", on_click=self._dry_run).props('outline data-testid="import-dry-run"')
                self.go = ui.button("Import", on_click=self._start).props('data-testid="import-start"')
            for button in (self.dry, self.go):
                button.disable()
        self.dialog.open()

    async def _uploaded(self, event: events.UploadEventArguments) -> None:
        self.file = (event.file.name, await event.file.read())
        answer = await self._send("preview")
        if answer is None:
            return
        self.mapping = dict(answer["mapping"])
        self._draw_mapping(answer["columns"], answer["fields"])
        self.summary.text = f"{answer['rows']} rows in “{self.file[0]}”. Check the mapping, then a dry run."
        for button in (self.dry, self.go):
            button.enable()

    def _draw_mapping(self, columns: list[str], fields: list[dict[str, Any]]) -> None:
        options = {"": "— skip —", **{f["name"]: f["title"] + (" *" if f["required"] else "") for f in fields}}
        self.map_box.clear()
        with self.map_box:
            ui.label("File column → field").classes("text-sm font-medium")
            for column in columns:
                with ui.row().classes("w-full items-center gap-2"):
                    ui.label(column).classes("w-48 truncate")
                    ui.select(options, value=self.mapping.get(column, ""),
                              on_change=lambda e, c=column: self._map(c, e.value)).props(
                        f'dense outlined aria-label="Field for column {column}" data-testid="import-map"'
                    ).classes("flex-1")

    def _map(self, column: str, field: str | None) -> None:
        if field:
            self.mapping[column] = field
        else:
            self.mapping.pop(column, None)

    async def _send(self, step: str) -> Any:
        assert self.file is not None
        path = f"{self.endpoint}/import" + (f"/{step}" if step else "")
        form = {} if step == "preview" else {"mapping": json.dumps(self.mapping)}
        return await _call("POST", path, files={"file": self.file}, data=form)

    def _show_errors(self, report: dict[str, Any]) -> None:
        rows = [{**e, "key": f"{e['row']}:{e['field']}:{i}"} for i, e in enumerate(report.get("errors", []))]
        self.errors.rows = rows
        self.errors.visible = bool(rows)
        self.errors.update()

    async def _dry_run(self) -> None:
        report = await self._send("dry-run")
        if report is None:
            return
        self.summary.text = (f"Dry run: {report['valid']} of {report['rows']} rows can be imported, "
                             f"{report['invalid']} have errors (they will be skipped).")
        self._show_errors(report)

    async def _start(self) -> None:
        started = await self._send("")
        if started is None:
            return
        self.go.disable()
        self.task = {"id": started["task_id"], "state": "running"}
        self.bar.visible = True
        self.summary.text = f"Importing {started['valid']} rows in the background…"
        forget = runtime.get().live.listen(self.user_id, self._pushed)
        context.client.on_delete(forget)  # not on_disconnect: also called on a reconnect
        self.timer = ui.timer(0.5, self._poll)

    def _pushed(self, message: dict[str, Any]) -> None:
        data = message.get("data") or {}
        if data.get("task_id") == self.task.get("id") and data.get("percent") is not None:
            self._progress(float(data["percent"]), str(data.get("message") or ""))

    def _progress(self, percent: float, message: str) -> None:
        self.bar.value = percent / 100
        self.summary.text = f"Importing: {message} ({percent:.0f} %)"

    async def _poll(self) -> None:
        record = await _call("GET", TASK_PATH.format(self.task["id"]))
        if not isinstance(record, dict):
            return
        self._progress(float(record.get("percent") or 0), str(record.get("message") or ""))
        if record.get("state") in ("succeeded", "failed", "cancelled"):
            self.timer.cancel()
            self._finished(record)

    def _finished(self, record: dict[str, Any]) -> None:
        result = record.get("result") or {}
        if record.get("state") == "succeeded":
            self.bar.value = 1
            self.summary.text = f"Imported {result.get('created', 0)} rows; {result.get('skipped', 0)} skipped."
            self._show_errors(result)
        else:
            self.summary.text = f"The import {record.get('state')}: {record.get('error') or ''}"
        self.on_done()


async def open_import(explorer: Any) -> None:
    ImportDialog(explorer.endpoint, explorer.ref.collection.label, explorer.user.id,
                 lambda: ui.timer(0.01, explorer.load, once=True))


def export_query(explorer: Any) -> dict[str, Any]:
    """The grid's filter, search and order (not its page) and its columns."""
    s = explorer.state
    params = tabular.page_query(page=0, size=1, sort=s["sort"], descending=s["desc"], filters=s["filters"],
                                search=s["q"])
    params.pop("skip", None)
    params.pop("limit", None)
    params["fields"] = ",".join(c["field"] for c in explorer.grid.options["columnDefs"])
    return params


async def export(explorer: Any, fmt: str) -> None:
    params = {**export_query(explorer), "format": fmt}
    path = f"{explorer.endpoint}/export"
    if int(explorer.state.get("total") or 0) > EXPORT_AT_ONCE:
        started = await _call("POST", path, params=params)
        if started is not None:
            ui.notify(f"Exporting {started['rows']} rows to your files in the background; "
                      "you will be notified when it is ready", type="info")
        return
    token = await session.fresh_access_token(60)
    if token is None:
        ui.navigate.to("/login")
        return
    answer = await runtime.get().gateway.answer(session.tokens(), "GET", path, params=params, timeout=120)
    if answer.status_code != 200:
        ui.notify(f"Export failed ({answer.status_code})", type="negative")
        return
    name = f"{explorer.ref.collection.name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{fmt}"
    ui.download.content(answer.content, name, answer.headers.get("content-type", "application/octet-stream"))
