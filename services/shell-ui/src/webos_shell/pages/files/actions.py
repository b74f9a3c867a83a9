"""What a person does on the Files page, each a call to storage through the gateway as
them: upload, new folder, and per item download (a signed share link), rename or move, tags,
delete to the trash. A failure is a toast naming what could not be done."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from nicegui import app, events, ui

from webos_common.clients.session import ApiError
from webos_common.files.afs import child_urn, parent_urn
from webos_shell import a11y, endpoints, runtime
from webos_shell.pages.files.places import name_problem, parse_tags, share_url

LIST_LIMIT = 1000  # storage's largest page
SHARE_SECONDS = 300  # a download link lives this long
MAX_UPLOAD = 10 * 1024 * 1024  # the gateway's body limit outside /api/storage/
FAILURES = (ApiError, httpx.HTTPError, OSError)


async def put_file(store: Any, urn: str, body: Callable[[], AsyncIterator[bytes]] | bytes,
                   content_type: str | None) -> Any:
    """`PUT /files/content` with a raw body and its content type, through the
    gateway's client and its silent refresh (`body` is a factory so a retry
    after a refresh can send the stream again)."""
    return await runtime.get().gateway.request(
        store, "PUT", endpoints.STORAGE_CONTENT, params={"urn": urn}, content=body,
        headers={"Content-Type": content_type or "application/octet-stream"})


async def fetch(path: str, **params: Any) -> tuple[Any, str | None]:
    try:
        return await runtime.get().gateway.get(app.storage.user, path, **params), None
    except FAILURES as exc:
        return None, why(exc)


def why(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ApiError) else f"unavailable ({exc.__class__.__name__})"


def footer(dialog: ui.dialog, label: str, on_click: Callable[[], Any], props: str) -> None:
    """A dialog's footer: Cancel, and the one action."""
    with ui.row().classes("w-full justify-end"):
        ui.button("Cancel", on_click=dialog.close).props("flat")
        ui.button(label, on_click=on_click).props(props)


class FileActions:
    """The changes of one view of `/files`; `reload` redraws what is listed."""

    def __init__(self, store: Any, home: str | None, holder: ui.element) -> None:
        self.store, self.home, self.holder = store, home, holder
        self.gateway = runtime.get().gateway
        self.reload: Callable[[], Any] = lambda: None

    async def call(self, what: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """One change; a failure is a toast naming `what`, and None."""
        try:
            if params:
                return await self.gateway.request(self.store, method, path, params=params) or {}
            return await self.gateway.send(self.store, method, path, body) or {}
        except FAILURES as exc:
            ui.notify(f"Could not {what}: {why(exc)}", type="negative")
            return None

    def actions(self, item: dict[str, Any]) -> list[tuple[str, str, Any, str]]:
        """A row's buttons: (icon, what it does, handler, test id)."""
        download = [] if item.get("is_dir") else [("download", "Download", self.download, "file-download")]
        return [*download, ("drive_file_rename_outline", "Rename or move", self.rename, "file-rename"),
                ("sell", "Tags", self.edit_tags, "file-tags"),
                ("delete", "Move to the trash", self.delete, "file-delete")]

    # -- per item ---------------------------------------------------------------
    async def download(self, item: dict[str, Any]) -> None:
        share = await self.call("download", "POST", endpoints.STORAGE_SHARES,
                                {"urn": item["urn"], "expires_in": SHARE_SECONDS})
        if share:
            ui.download.from_url(share_url(share), item["name"])

    def _dialog(self, testid: str, title: str) -> tuple[ui.dialog, ui.card]:
        with self.holder, ui.dialog() as dialog, ui.card().classes("min-w-96") as card:
            card.props(f'data-testid="{testid}"')
            a11y.heading(title)
        dialog.on("hide", dialog.delete)  # closed dialogs do not pile up
        return dialog, card

    def rename(self, item: dict[str, Any]) -> None:
        dialog, card = self._dialog("file-rename-dialog", f"Rename or move “{item['name']}”")
        with card:
            name = ui.input("New name", value=item["name"]).classes("w-full").props(
                'autofocus data-testid="file-rename-input"')
            target = ui.input("Folder", value=parent_urn(item["urn"])).classes("w-full").props(
                'data-testid="file-rename-folder"')

            async def save() -> None:
                problem = name_problem(name.value)
                name.error = problem
                if problem:
                    return
                dst = child_urn(str(target.value or parent_urn(item["urn"])), name.value.strip())
                if dst.rstrip("/") == str(item["urn"]).rstrip("/"):
                    dialog.close()
                    return
                moved = await self.call("rename", "POST", endpoints.STORAGE_MOVE, {"src": item["urn"], "dst": dst})
                if moved is None:
                    return
                dialog.close()
                ui.notify("Moving in the background" if moved.get("background") else f"Moved to {dst}",
                          type="positive")
                await self.reload()

            name.on("keydown.enter", save)
            footer(dialog, "Save", save, 'data-testid="file-rename-save"')
        dialog.open()

    def edit_tags(self, item: dict[str, Any]) -> None:
        dialog, card = self._dialog("file-tags-dialog", f"Tags of “{item['name']}”")
        with card:
            box = ui.input("Tags (comma-separated)", value=", ".join(item.get("tags") or [])).classes(
                "w-full").props('autofocus data-testid="file-tags-input"')

            async def save() -> None:
                done = await self.call("save the tags", "PUT", endpoints.STORAGE_TAGS,
                                       {"urn": item["urn"], "tags": parse_tags(box.value)})
                if done is None:
                    return
                dialog.close()
                ui.notify("Tags saved", type="positive")
                await self.reload()

            box.on("keydown.enter", save)
            footer(dialog, "Save", save, 'data-testid="file-tags-save"')
        dialog.open()

    def delete(self, item: dict[str, Any]) -> None:
        kind = "folder" if item.get("is_dir") else "file"
        dialog, card = self._dialog("file-delete-dialog", f"Move the {kind} “{item['name']}” to the trash?")
        with card:
            ui.label("You can restore it from the trash.").classes("text-sm text-gray-500")

            async def confirm() -> None:
                done = await self.call("delete", "DELETE", endpoints.STORAGE_FILES, urn=item["urn"])
                dialog.close()
                if done is not None:
                    ui.notify(f"“{item['name']}” moved to the trash", type="positive")
                    await self.reload()

            footer(dialog, "Move to trash", confirm, 'color=negative data-testid="file-delete-confirm"')
        dialog.open()

    # -- the folder ---------------------------------------------------------------
    def mkdir(self, folder: str) -> None:
        dialog, card = self._dialog("files-mkdir-dialog", "New folder")
        with card:
            name = ui.input("Name").classes("w-full").props('autofocus data-testid="files-mkdir-name"')

            async def create() -> None:
                problem = name_problem(name.value)
                name.error = problem
                if problem:
                    return
                made = await self.call("create the folder", "POST", endpoints.STORAGE_MKDIR,
                                       {"urn": child_urn(folder, name.value.strip())})
                if made is None:
                    return
                dialog.close()
                ui.notify(f"Folder “{name.value.strip()}” created", type="positive")
                await self.reload()

            name.on("keydown.enter", create)
            footer(dialog, "Create", create, 'data-testid="files-mkdir-confirm"')
        dialog.open()

    async def upload(self, folder: str, event: events.UploadEventArguments) -> None:
        file = event.file
        problem = name_problem(file.name)
        if problem:
            ui.notify(f"Could not upload {file.name!r}: {problem}", type="negative")
            return
        try:
            await put_file(self.store, child_urn(folder, file.name), file.iterate, file.content_type)
        except FAILURES as exc:
            ui.notify(f"Could not upload “{file.name}”: {why(exc)}", type="negative")
            return
        ui.notify(f"Uploaded “{file.name}”", type="positive")
        await self.reload()
