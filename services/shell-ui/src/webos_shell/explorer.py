"""DataExplorer: AG Grid over a module collection. Paging, sort and
filters run on the server (`skip/limit/sort/q/<field>`; the next page after
its `next_cursor`, so page 2,000 costs what the first does; the count capped:
"more than 1,000 rows" on a big list); a cell edit is
checked against the schema, then PATCHed over the version the page read
(`If-Match`; a 412 opens the conflict dialog); a bulk edit shows its preview
and goes out as one request; delete goes to the trash and can be undone;
import and export of the whole filtered list are the host's (`transfer`).

Collection conventions (documented in the README): `GET endpoint` → page,
`PATCH endpoint/{id}`, `DELETE endpoint/{id}` (to trash), `GET endpoint/trash`,
`POST endpoint/{id}/restore`; updates and bulk edits as `collection_api` finds them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from nicegui import app, ui

from webos_common.clients.session import ApiError, SessionExpired, if_match
from webos_common.identity import User
from webos_shell import forms, local_time, permissions, runtime, tabular
from webos_shell.collections_ui import CollectionRef
from webos_shell.conflict import open_conflict
from webos_shell.schema_fields import fields_from_schema, server_errors


def _details(exc: ApiError) -> Any:
    body = exc.body if isinstance(getattr(exc, "body", None), dict) else {}
    return (body.get("error") or {}).get("details")


def refusal(exc: ApiError, *, seen: bool) -> str:
    """Why a save was refused. A row one may read but not change answers 404 like one never
    seen (sharing shows nothing of what it does not share), so the grid, which still lists
    it, tells the two apart."""
    if exc.status != 404:
        return f"Not saved: {exc}"
    if seen:
        return "Not saved: you may read this record but not change it"
    return "Not saved: this record is gone (deleted, or no longer shared with you)"


_CELL_ERROR = ("<style>.ag-cell.webos-cell-invalid { outline: 2px solid #b71c1c; outline-offset: -2px; }</style>"
               f"<script>{(Path(__file__).parent / 'grid.js').read_text()}</script>")


BULK_PAGE = 500  # rows a page while a bulk edit reads every row its search finds
REFUSED = object()  # `first_page`'s answer for a list that refused (the person was told)
FIRST_PAGE_WAIT = 1.0  # s the page waits for its rows: NiceGUI fails a page not built in 3 s


class Cards(ui.element, component="explorer_cards.js"):
    """The rows as a phone shows them, drawn by the browser only on a narrow screen: one element
    for the page instead of a few per row, which a wide screen would build and hide."""

    def show(self, cards: list[dict[str, Any]]) -> None:
        """`cards`: each row's `href`, `heading` and `lines` (each a `local_time` text)."""
        self._props["cards"] = cards
        self.update()


def _initial_state(filters: dict[str, Any] | None, page_size: int) -> dict[str, Any]:
    return {"page": 0, "size": page_size, "sort": None, "desc": False, "filters": dict(filters or {}), "q": "",
            "trash": False, "total": 0, "more": None, "has_more": False}


def _page_request(endpoint: str, s: dict[str, Any], cursor: str | None = None) -> tuple[str, dict[str, Any]]:
    """The path and query of the page the state `s` shows (from `cursor`: the page before's `next_cursor`)."""
    params = tabular.page_query(page=s["page"], size=s["size"], sort=s["sort"], descending=s["desc"],
                                filters=s["filters"], search=s["q"], cursor=None if s["trash"] else cursor)
    # the pager shows the count: up to the list's cap (a count of a million rows costs seconds)
    params["meta"] = "capped"
    return (f"{endpoint}/trash" if s["trash"] else endpoint), params


class DataExplorer:
    """The first page of rows comes with the page itself (`first_page`, read by the page's function
    and handed to the constructor): the page's HTML carries the rows, and the grid draws them as
    it is built, not after the page's socket has connected and asked for them (one more round
    trip, and the grid built a second time)."""

    def __init__(self, ref: CollectionRef, user: User, *, filters: dict[str, Any] | None = None,
                 page_size: int = 25, first: Any = None) -> None:
        self.ref, self.user = ref, user
        self.endpoint = ref.collection.endpoint
        self.specs = fields_from_schema(ref.schema())
        self.update_specs = fields_from_schema(ref.schema("update")) or self.specs
        self.writable = permissions.can_write(user, ref.collection)
        self.api = ref.api
        columns = tabular.column_defs(self.specs, editable=self.writable)
        for col in columns:
            col["editable"] = bool(col["editable"]) and self.api.editable(col["field"])
        self.record_base = f"/m/{ref.manifest.name}/{ref.collection.name}"
        columns.insert(0, tabular.open_column(self.record_base))
        self.state = _initial_state(filters, page_size)
        self.cursors: dict[int, str] = {}  # page -> the cursor it starts at (the page before's `next_cursor`)
        self.rows: list[dict[str, Any]] = []
        self.versions: dict[str, int] = {}  # row id -> the version this page last saw (sent as If-Match)
        self._toolbar()
        self.cards = Cards().classes("nicegui-column sm:hidden w-full gap-2").props('data-testid="explorer-cards"')
        self.grid = ui.aggrid({
            "columnDefs": columns,
            "defaultColDef": {"minWidth": 110},  # a phone scrolls the grid sideways, never squeezes it
            "rowData": [], "rowSelection": tabular.ROW_SELECTION,
            "stopEditingWhenCellsLoseFocus": True, ":getRowId": "(params) => String(params.data.id)",
        }, theme="quartz").classes("max-sm:hidden w-full h-[28rem]").props('data-testid="explorer-grid"')
        self.grid.on("cellValueChanged", self._edited)
        ui.add_body_html(_CELL_ERROR)
        self.grid.on("sortChanged", self._sorted)
        self._pager()
        if first is REFUSED:
            pass  # said once (a toast): as `load` leaves a refused page
        elif first is not None:
            self._show(first)
        else:  # slow: read once the page is up, as before
            ui.timer(0.01, self.load, once=True)

    @classmethod
    async def first_page(cls, ref: CollectionRef, *, filters: dict[str, Any] | None = None,
                         page_size: int = 25) -> Any:
        """The page a new explorer shows first (for `first`); `REFUSED` when it was refused (said),
        None when it did not come within `FIRST_PAGE_WAIT`. Read it before drawing anything that waits for the
        page's socket (a `ui.timer` does): NiceGUI sends the page as soon as something waits for
        its socket, without what is drawn after."""
        path, params = _page_request(ref.collection.endpoint, _initial_state(filters, page_size))
        try:
            body = await asyncio.wait_for(cls._call("GET", path, params=params), FIRST_PAGE_WAIT)
        except TimeoutError:
            return None
        return REFUSED if body is None else body

    # -- parts ----------------------------------------------------------------
    def _toolbar(self) -> None:
        filterable = [s.name for s in self.specs if s.kind in ("enum", "string", "boolean", "date")]
        with ui.row().classes("w-full items-center gap-2"):
            if self.writable:
                ui.button("New", icon="add", on_click=self._create).props('data-testid="explorer-new"')
            ui.input(placeholder="Search").props("dense outlined clearable debounce=300").on_value_change(
                lambda e: self._set("q", e.value or ""))
            with ui.row().classes("items-center gap-1"):
                field = ui.select(filterable, label="Filter field").props("dense outlined").classes("w-36")
                value = ui.input("value").props("dense outlined").classes("w-32")
                ui.button(icon="filter_alt",
                          on_click=lambda: self._filter(field.value, value.value)).props(
                    'flat dense aria-label="Add the filter"')
            self.chips = ui.row().classes("gap-1")
            ui.space()
            if self.writable and "shares" in (self.ref.schema().get("properties") or {}):
                ui.button("Share", icon="share", on_click=self._share).props('flat data-testid="explorer-share"')
            if self.writable:
                ui.button("Bulk edit", icon="edit_note", on_click=self._bulk).props('flat data-testid="bulk-edit"')
                self.delete_button = ui.button("Delete", icon="delete", on_click=self._delete).props(
                    'flat color=negative data-testid="explorer-delete"')
                ui.switch("Trash", on_change=lambda e: self._trash(e.value)).props('data-testid="trash"')
            self._transfer_buttons()
        self._chips()

    def _transfer_buttons(self) -> None:
        """Import and export, where the collection's host serves them (`webos_shell.transfer`)."""
        from webos_shell import transfer

        if self.writable and self.api.has("POST", "/import"):
            ui.button("Import", icon="upload_file", on_click=lambda: transfer.open_import(self)).props(
                'flat data-testid="explorer-import"')
        if self.api.has("GET", "/export"):
            with ui.button("Export", icon="download").props('flat data-testid="explorer-export"'), ui.menu():
                ui.menu_item("CSV", on_click=lambda: transfer.export(self, "csv")).props(
                    'data-testid="explorer-export-csv"')
                ui.menu_item("Excel", on_click=lambda: transfer.export(self, "xlsx")).props(
                    'data-testid="explorer-export-xlsx"')
        else:
            ui.button("CSV", icon="download", on_click=self._export).props('flat data-testid="explorer-csv"')

    def _pager(self) -> None:
        with ui.row().classes("items-center gap-2"):
            ui.button(icon="chevron_left", on_click=lambda: self._page(-1)).props(
                'flat dense aria-label="Previous page"')
            self.page_label = ui.label("").props('data-testid="explorer-page"')
            ui.button(icon="chevron_right", on_click=lambda: self._page(1)).props('flat dense aria-label="Next page"')
            ui.select([10, 25, 50, 100], value=self.state["size"], label="Rows").props("dense").on_value_change(
                lambda e: self._set("size", e.value))

    def _chips(self) -> None:
        self.chips.clear()
        with self.chips:
            for key, val in self.state["filters"].items():
                ui.chip(f"{key}: {val}", removable=True, on_value_change=lambda _, k=key: self._unfilter(k))

    # -- loading --------------------------------------------------------------
    async def load(self) -> None:
        path, params = _page_request(self.endpoint, self.state, self.cursors.get(self.state["page"]))
        body = await self._call("GET", path, params=params)
        if body is not None:
            self._show(body)

    def _show(self, body: Any) -> None:
        """Draw a page the list answered."""
        s = self.state
        page = body if isinstance(body, dict) else {}
        self.rows = page.get("items", []) if page else list(body)
        s["more"], s["has_more"] = page.get("more_than"), bool(page.get("has_more"))
        total = page.get("total")
        s["total"] = total if total is not None else (s["more"] or len(self.rows))
        if page.get("next_cursor") and not s["trash"]:  # the trash's route pages by skip only
            self.cursors[s["page"] + 1] = page["next_cursor"]
        self.versions = {tabular.row_id(r): int(r["version"]) for r in self.rows if "version" in r}
        self.grid.options["rowData"] = self.rows
        self.grid.update()
        self._draw_cards()
        self.page_label.text = tabular.page_label(s["page"], s["size"], total if total is not None else s["total"],
                                                  s["more"])

    def _draw_cards(self) -> None:
        """On a phone the page is a list of cards, each opening its record (the grid is for wide screens)."""
        cards = []
        for row in self.rows:
            heading, lines = tabular.card_of(row, self.specs)
            cards.append({"href": f"{self.record_base}/{tabular.row_id(row)}", "heading": heading,
                          "lines": [local_time.text(f"{label}: ", value) for label, value in lines]})
        self.cards.show(cards)

    @staticmethod
    async def _call(method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                    headers: dict[str, str] | None = None, conflict: Any = None, refused: Any = None) -> Any:
        """One call; a 412 goes to `conflict(details)` when given (the save lost a race), any
        other refusal to `await refused(exc)` when given, else to a notification."""
        gateway = runtime.get().gateway
        try:
            if method == "GET":
                return await gateway.request(app.storage.user, "GET", path, params=params)
            result = await gateway.send(app.storage.user, method, path, body, headers=headers)
            return {} if result is None else result
        except SessionExpired:
            ui.navigate.to("/login")
        except ApiError as exc:
            if exc.status == 412 and conflict is not None:
                conflict(_details(exc))
            elif refused is not None:
                await refused(exc)
            else:
                ui.notify(str(exc), type="negative")
        return None

    async def _set(self, key: str, value: Any) -> None:
        self.state[key] = value
        self.state["page"] = 0
        self.cursors.clear()  # another list: its pages start elsewhere
        await self.load()

    async def _trash(self, on: bool) -> None:
        self.delete_button.text = "Restore" if on else "Delete"
        self.delete_button.props(f"icon={'restore_from_trash' if on else 'delete'}")
        await self._set("trash", on)

    async def _page(self, step: int) -> None:
        s = self.state
        if s["more"]:  # a capped count: the last page is the one without more rows after it
            last = s["page"] if not s["has_more"] else s["page"] + 1
        else:
            last = max(0, (s["total"] - 1) // s["size"])
        s["page"] = min(max(0, s["page"] + step), last)
        await self.load()

    async def _filter(self, field: str | None, value: str | None) -> None:
        if field and value:
            self.state["filters"][field] = value
            self._chips()
            await self._set("page", 0)

    async def _unfilter(self, key: str) -> None:
        self.state["filters"].pop(key, None)
        self._chips()
        await self._set("page", 0)

    async def _sorted(self) -> None:
        columns = await self.grid.run_grid_method("getColumnState")
        active = [c for c in columns or [] if c.get("sort")]
        wanted = (active[0]["colId"] if active else None, bool(active and active[0]["sort"] == "desc"))
        if wanted != (self.state["sort"], self.state["desc"]):  # redrawing the rows re-emits the event
            self.state["sort"], self.state["desc"] = wanted
            self.cursors.clear()
            await self.load()

    # -- editing --------------------------------------------------------------
    async def _edited(self, event: Any) -> None:
        args = event.args
        row, field, old = dict(args.get("data") or {}), str(args.get("colId")), args.get("oldValue")
        spec = next((s for s in [*self.update_specs, *self.specs] if s.name == field), None)
        model = next((s for s in self.specs if s.name == field), None)
        value, message = tabular.cell_value(spec, model, args.get("newValue")) if spec else (args.get("newValue"), None)
        if message:
            self._refuse_cell(row, field, old, message)
            return
        await self._save(tabular.row_id(row), field, value, self.versions.get(tabular.row_id(row)),
                         cell=(row, old))

    def _refuse_cell(self, row: dict[str, Any], field: str, old: Any, message: str) -> None:
        """Put the saved value back in the cell and say why the new one was refused, at the cell."""
        rid = tabular.row_id(row)
        self.grid.run_row_method(rid, "setData", {**row, field: old})
        label = next((s.label for s in self.specs if s.name == field), field)
        ui.run_javascript(f"window.webosCellError({self.grid.id}, {json.dumps(rid)}, {json.dumps(field)}, "
                          f"{json.dumps(f'{label}: {message}')})")

    async def _save(self, rid: str, field: str, value: Any, version: int | None,
                    cell: tuple[dict[str, Any], Any] | None = None) -> None:
        """Save one field over `version` (If-Match); a 412 opens the conflict dialog, a 422 from
        an edit in the grid (`cell`: the row and the value before) is said at that cell."""
        method, path, body = self.api.update(rid, field, value)
        headers = if_match(version)

        def conflicted(details: Any) -> None:
            open_conflict(details, body, current=lambda: self._call("GET", f"{self.endpoint}/{rid}"),
                          reload=self.load, overwrite=lambda v: self._save(rid, field, value, v), specs=self.specs)

        async def refused(exc: ApiError) -> None:
            if exc.status == 422 and cell is not None:
                found = tabular.field_message(server_errors(exc.body), field)
                self._refuse_cell(cell[0], field, cell[1], found or str(exc))
                return
            await self.load()  # the grid shows what is saved, not the refused value
            ui.notify(refusal(exc, seen=any(tabular.row_id(r) == rid for r in self.rows)), type="negative")

        result = await self._call(method, path, body=body, headers=headers, conflict=conflicted, refused=refused)
        if result is None:
            return
        if isinstance(result, dict) and "version" in result:
            self.versions[rid] = int(result["version"])
        ui.notify(f"Saved {field}", type="positive")

    async def _create(self) -> None:
        async def created(_: Any) -> None:
            await self.load()

        await forms.open_create(self.ref.manifest.name, self.ref.collection.name, on_created=created)

    async def _selected(self) -> list[dict[str, Any]]:
        rows = await self.grid.get_selected_rows()
        if not rows:
            ui.notify("Select rows first", type="warning")
        return rows

    async def _bulk(self) -> None:
        from webos_shell.bulk import open_bulk_dialog

        rows = await self._selected()
        if rows:  # the whole page picked: the dialog offers every row the search and filters find
            s = self.state
            everything = not s["trash"] and len(rows) == len(self.rows) and (s["more"] or s["total"] > len(rows))
            found = tabular.row_count(None if s["more"] else s["total"], s["more"])
            await open_bulk_dialog(self, rows, matching=found if everything else None)

    async def matching_rows(self, fields: list[str]) -> list[dict[str, Any]] | None:
        """Every row the current search and filters find (`fields` of each, with its id and
        version), read page by page as the list gives them; None when a page was refused (said)."""
        s = self.state
        params = tabular.page_query(page=0, size=BULK_PAGE, sort=s["sort"], descending=s["desc"],
                                    filters=s["filters"], search=s["q"])
        params["fields"] = ",".join(dict.fromkeys(["id", "version", *fields]))
        found: dict[str, dict[str, Any]] = {}
        while True:
            body = await self._call("GET", self.endpoint, params=params)
            if not isinstance(body, dict):
                return None
            found.update((tabular.row_id(row), row) for row in body.get("items", []))
            if not body.get("has_more") or not body.get("items"):
                return list(found.values())
            if body.get("next_cursor"):  # after the last row read: no skip over every row read before
                params.pop("skip", None)
                params["cursor"] = body["next_cursor"]
            else:
                params["skip"] = int(params.get("skip", 0)) + len(body["items"])

    async def _share(self) -> None:
        from webos_shell.sharing import open_share_dialog

        rows = await self._selected()
        if rows:
            await open_share_dialog(self.endpoint, rows[0], self.load)

    async def _delete(self) -> None:
        rows = await self._selected()
        if not rows:
            return
        restoring = self.state["trash"]
        for row in rows:
            rid = tabular.row_id(row)
            if restoring:
                await self._call("POST", f"{self.endpoint}/{rid}/restore")
            else:
                await self._call("DELETE", f"{self.endpoint}/{rid}")
        verb = "Restored" if restoring else "Moved to trash:"
        ui.notify(f"{verb} {len(rows)} row(s)", type="positive")
        await self.load()

    def _export(self) -> None:
        fields = [c["field"] for c in self.grid.options["columnDefs"]]
        data = tabular.to_csv(self.rows, ["id", *fields] if "id" not in fields else fields)
        ui.download.content(data, f"{self.ref.collection.name}.csv", "text/csv")
