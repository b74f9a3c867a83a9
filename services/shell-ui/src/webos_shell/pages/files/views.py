"""What the Files page lists: a folder, search results, the trash; each row with its
actions (`FileActions`) and, for a file, its preview (its name, or the Preview button)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from webos_common.files.afs import parent_urn
from webos_shell import endpoints, local_time
from webos_shell.file_picker import sorted_items
from webos_shell.pages.files.actions import LIST_LIMIT, MAX_UPLOAD, FileActions, fetch
from webos_shell.pages.files.places import breadcrumbs, files_url, human_size
from webos_shell.pages.files.preview import FilePreview


class FilesPage(FileActions):
    """One view of `/files`."""

    def actions(self, item: dict[str, Any]) -> list[tuple[str, str, Any, str]]:
        preview = [] if item.get("is_dir") else [("visibility", "Preview", self.preview, "file-preview")]
        return [*preview, *super().actions(item)]

    async def preview(self, item: dict[str, Any]) -> None:
        await FilePreview(self, item).open()

    # -- the list ---------------------------------------------------------------
    def table(self, items: list[dict[str, Any]], *, location: bool = False) -> None:
        headers = ["Name", *(["Folder"] if location else []), "Size", "Modified", "Tags", ""]
        # scrolls sideways by itself on a narrow screen (a phone), never the page
        with ui.element("div").classes("w-full overflow-x-auto").props('tabindex=0 role=region aria-label="Files"'), \
                ui.element("table").classes("w-full text-left border-collapse").props('data-testid="files-table"'):
            with ui.element("thead"), ui.element("tr").classes("border-b"):
                for header in headers:
                    with ui.element("th").classes("px-2 py-1 text-sm text-gray-500 font-medium"):
                        ui.label(header)
            with ui.element("tbody"):
                for item in sorted_items(items):
                    self.row(item, location=location)

    def row(self, item: dict[str, Any], *, location: bool) -> None:
        cell = "px-2 py-1 align-middle"
        with ui.element("tr").classes("border-b hover:bg-gray-50 dark:hover:bg-gray-800") as tr:
            tr.props["data-testid"] = "file-row"
            tr.props["data-name"] = str(item.get("name") or "")
            tr.props["data-urn"] = str(item.get("urn") or "")
            tr.props["data-kind"] = "folder" if item.get("is_dir") else "file"
            with ui.element("td").classes(cell), ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("folder" if item.get("is_dir") else "description").classes(
                    "text-amber-500" if item.get("is_dir") else "text-gray-500")
                if item.get("is_dir"):
                    ui.link(item["name"], files_url(item["urn"])).classes("font-medium").props(
                        'data-testid="file-open"')
                else:
                    ui.button(item["name"], on_click=lambda i=item: self.preview(i)).props(
                        'flat dense no-caps align=left padding="0 4px" data-testid="file-name"').classes(
                        "font-normal")
            if location:
                with ui.element("td").classes(cell):
                    folder = parent_urn(item["urn"])
                    ui.link(folder, files_url(folder)).classes("text-sm").props('data-testid="file-folder"')
            with ui.element("td").classes(cell + " text-sm whitespace-nowrap"):
                ui.label(human_size(None if item.get("is_dir") else item.get("size")))
            with ui.element("td").classes(cell + " text-sm whitespace-nowrap"):
                local_time.MomentText(local_time.moment(item.get("modified"))).props(
                    'data-testid="file-modified"')
            with ui.element("td").classes(cell), ui.row().classes("gap-1"):
                for tag in item.get("tags") or []:
                    ui.badge(tag, color="primary").props('outline data-testid="file-tag"')
            with ui.element("td").classes(cell + " text-right whitespace-nowrap"):
                name = str(item.get("name") or "").replace('"', "'")
                for icon, what, act, testid in self.actions(item):
                    ui.button(icon=icon, on_click=lambda i=item, a=act: a(i)).props(
                        f'flat round dense aria-label="{what}: {name}" data-testid="{testid}"'
                        + (" color=negative" if icon == "delete" else "")).tooltip(what)


    async def browse(self, folder: str) -> None:
        with ui.row().classes("items-center gap-1").props('data-testid="files-breadcrumb"'):
            for index, (label, urn) in enumerate(breadcrumbs(folder, self.home)):
                if index:
                    ui.icon("chevron_right").classes("text-gray-400")
                ui.link(label, files_url(urn)).props('data-testid="files-crumb"').classes("text-base")
        with ui.row().classes("items-center gap-2"):
            ui.button("New folder", icon="create_new_folder", on_click=lambda: self.mkdir(folder)).props(
                'outline data-testid="files-mkdir"')
            upload = ui.upload(multiple=True, auto_upload=True, max_file_size=MAX_UPLOAD,
                               label="Upload files here",
                               on_upload=lambda e: self.upload(folder, e),
                               on_rejected=lambda: ui.notify(f"Files over {human_size(MAX_UPLOAD)} are refused",
                                                             type="warning"))
            upload.props('flat bordered data-testid="files-upload"').classes("w-80")
            upload.on_multi_upload(lambda: upload.reset())

        @ui.refreshable
        async def listing() -> None:
            page, failure = await fetch(endpoints.STORAGE_FILES, urn=folder, limit=LIST_LIMIT)
            if failure is not None or not isinstance(page, dict):
                ui.label(f"This folder cannot be shown: {failure}").classes("text-negative").props(
                    'data-testid="files-error"')
                return
            items = page.get("items") or []
            if not items:
                ui.label("This folder is empty.").classes("text-gray-500").props('data-testid="files-empty"')
                return
            self.table(items)
            if page.get("has_more"):
                ui.label(f"Showing the first {len(items)} of {page.get('total')} items.").classes(
                    "text-sm text-gray-500")

        self.reload = listing.refresh
        await listing()

    async def search(self, text: str) -> None:
        @ui.refreshable
        async def results() -> None:
            found, failure = await fetch(endpoints.STORAGE_SEARCH, name=text, limit=LIST_LIMIT)
            if failure is not None or not isinstance(found, dict):
                ui.label(f"The search failed: {failure}").classes("text-negative").props('data-testid="files-error"')
                return
            items = found.get("items") or []
            ui.label(f"{found.get('total', len(items))} found for “{text}”").classes("text-gray-500").props(
                'data-testid="files-search-count"')
            if items:
                self.table(items, location=True)

        self.reload = results.refresh
        await results()

    async def trash(self) -> None:
        @ui.refreshable
        async def listing() -> None:
            found, failure = await fetch(endpoints.STORAGE_TRASH)
            if failure is not None or not isinstance(found, dict):
                ui.label(f"The trash cannot be shown: {failure}").classes("text-negative").props(
                    'data-testid="files-error"')
                return
            items = sorted(found.get("items") or [], key=lambda i: str(i.get("deleted_at")), reverse=True)
            if not items:
                ui.label("The trash is empty.").classes("text-gray-500").props('data-testid="trash-empty"')
                return
            with ui.list().props('bordered separator data-testid="trash-list"').classes("w-full max-w-4xl"):
                for item in items:
                    with ui.item() as row:
                        row.props["data-testid"] = "trash-row"
                        row.props["data-urn"] = str(item.get("urn") or "")
                        with ui.item_section().props("avatar"):
                            ui.icon("folder" if item.get("is_dir") else "description")
                        with ui.item_section():
                            ui.item_label(str(item.get("urn")))
                            with ui.item_label().props('caption data-testid="trash-deleted"'):
                                local_time.MomentText(local_time.text("deleted ", local_time.moment(
                                    item.get("deleted_at"))), tag="span")
                        with ui.item_section().props("side"):
                            ui.button("Restore", icon="restore_from_trash",
                                      on_click=lambda i=item: restore(i)).props('flat data-testid="trash-restore"')

        async def restore(item: dict[str, Any]) -> None:
            done = await self.call("restore", "POST", endpoints.STORAGE_RESTORE.format(id=item["id"]))
            if done is not None:
                ui.notify(f"Restored {item['urn']}", type="positive")
                listing.refresh()

        self.reload = listing.refresh
        await listing()
