"""Files (`/files`): the person's files in the Abstract File System, over
storage's API through the gateway with their own token.

`?urn=<folder>` opens a folder (default: the person's home, as storage's
`GET /sources` names it; `fs://home/…` is an alias of it unless a source or
mount is called `home`), `?q=<name>` searches by name, `?view=trash` shows
the trash with restore. Uploads go to the folder shown (`PUT /files/content`,
an existing file of that name is replaced); downloads are short-lived signed
share links the browser fetches from the gateway itself, so no file passes
through the shell. NiceGUI's upload route sits behind the gateway's default
body limit, hence `MAX_UPLOAD`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, events, ui

from webos_common.afs import child_urn, folder_urn, parent_urn, split_urn
from webos_common.clients.session import ApiError
from webos_shell import a11y, endpoints, layout, runtime, session
from webos_shell.file_picker import sorted_items
from webos_shell.tabular import when

PAGE = "/files"
HOME_ALIAS = "home"
LIST_LIMIT = 1000  # storage's largest page
SHARE_SECONDS = 300  # a download link lives this long
MAX_UPLOAD = 10 * 1024 * 1024  # the gateway's body limit outside /api/storage/
UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
FAILURES = (ApiError, httpx.HTTPError, OSError)


# -- pure helpers ---------------------------------------------------------------
def human_size(size: int | None) -> str:
    """`1536` → `1.5 KiB`; unknown (a folder) → an empty string."""
    if size is None:
        return ""
    value = float(size)
    for unit in UNITS:
        if value < 1024 or unit == UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # pragma: no cover - the loop always returns




def alias_home(urn: str, home: str | None, names: Iterable[str] = ()) -> str:
    """`fs://home/x` → `<home>/x`, unless `home` names a real source or mount."""
    source, path = split_urn(urn)
    if source != HOME_ALIAS or not home or HOME_ALIAS in set(names):
        return urn
    return folder_urn(home) + path + ("/" if path and urn.endswith("/") else "")


def breadcrumbs(urn: str, home: str | None = None) -> list[tuple[str, str]]:
    """(label, folder URN) from the root to `urn`; under the person's home
    the trail starts at "Home" instead of `source / home / <id>`."""
    source, path = split_urn(urn)
    parts = [p for p in path.split("/") if p]
    crumbs = [(source, f"fs://{source}/")]
    if home:
        home_source, home_path = split_urn(home)
        home_parts = [p for p in home_path.split("/") if p]
        if source == home_source and parts[: len(home_parts)] == home_parts:
            crumbs = [("Home", folder_urn(home))]
            parts, base = parts[len(home_parts):], home_parts
        else:
            base = []
    else:
        base = []
    trail = list(base)
    for part in parts:
        trail.append(part)
        crumbs.append((part, folder_urn(f"fs://{source}/{'/'.join(trail)}")))
    return crumbs


def parse_tags(text: str | None) -> list[str]:
    """`"a, b,,a "` → `["a", "b"]`: comma-separated, trimmed, no repeats."""
    seen: list[str] = []
    for raw in (text or "").split(","):
        tag = raw.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def name_problem(name: str | None) -> str | None:
    """Why a new file or folder name is refused before asking storage (which checks the rest)."""
    name = (name or "").strip()
    if not name:
        return "A name is required"
    if "/" in name or "\\" in name:
        return "A name cannot contain / or \\"
    if name in (".", ".."):
        return "Not a valid name"
    if len(name.encode()) > 255:
        return "At most 255 bytes"
    return None


def files_url(urn: str | None = None, *, q: str | None = None, view: str | None = None) -> str:
    params = {k: v for k, v in (("urn", urn), ("q", q), ("view", view)) if v}
    return PAGE + (f"?{urlencode(params)}" if params else "")


def source_options(sources: dict[str, Any]) -> dict[str, str]:
    """Where one can go: the home, every source and every mount (folder URN → label)."""
    options: dict[str, str] = {}
    if sources.get("home"):
        options[folder_urn(str(sources["home"]))] = "Home"
    for source in sources.get("sources") or []:
        options.setdefault(folder_urn(f"fs://{source['id']}/"), str(source["id"]))
    for mount in sources.get("mounts") or []:
        options.setdefault(folder_urn(f"fs://{mount['name']}/"), f"{mount['name']} (mount)")
    return options


def chosen_option(urn: str, options: Iterable[str]) -> str | None:
    """The option the URN is under (the longest one: the home before its source)."""
    here = folder_urn(urn)
    under = [o for o in options if here.startswith(o)]
    return max(under, key=len) if under else None


def share_url(share: dict[str, Any]) -> str:
    """Storage's share answer → the gateway path the browser downloads from."""
    return f"/api/storage{share['path']}?download=1"


# -- calls ----------------------------------------------------------------------
async def put_file(store: Any, urn: str, body: Callable[[], AsyncIterator[bytes]] | bytes,
                   content_type: str | None) -> Any:
    """`PUT /files/content` with a raw body and its content type, through the
    gateway's client and its silent refresh (`body` is a factory so a retry
    after a refresh can send the stream again)."""
    return await runtime.get().gateway.request(
        store, "PUT", endpoints.STORAGE_CONTENT, params={"urn": urn}, content=body,
        headers={"Content-Type": content_type or "application/octet-stream"})




async def _get(path: str, **params: Any) -> tuple[Any, str | None]:
    try:
        return await runtime.get().gateway.get(app.storage.user, path, **params), None
    except FAILURES as exc:
        return None, _why(exc)


def _why(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ApiError) else f"unavailable ({exc.__class__.__name__})"


def _actions(dialog: ui.dialog, label: str, on_click: Callable[[], Any], props: str) -> None:
    """A dialog's footer: Cancel, and the one action."""
    with ui.row().classes("w-full justify-end"):
        ui.button("Cancel", on_click=dialog.close).props("flat")
        ui.button(label, on_click=on_click).props(props)


# -- the page -------------------------------------------------------------------
class FilesPage:
    """One view of `/files`; `reload` redraws what is listed."""

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
            ui.notify(f"Could not {what}: {_why(exc)}", type="negative")
            return None

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
                    ui.label(item["name"]).props('data-testid="file-name"')
            if location:
                with ui.element("td").classes(cell):
                    folder = parent_urn(item["urn"])
                    ui.link(folder, files_url(folder)).classes("text-sm").props('data-testid="file-folder"')
            with ui.element("td").classes(cell + " text-sm whitespace-nowrap"):
                ui.label(human_size(None if item.get("is_dir") else item.get("size")))
            with ui.element("td").classes(cell + " text-sm whitespace-nowrap"):
                ui.label(when(item.get("modified")))
            with ui.element("td").classes(cell), ui.row().classes("gap-1"):
                for tag in item.get("tags") or []:
                    ui.badge(tag, color="primary").props('outline data-testid="file-tag"')
            with ui.element("td").classes(cell + " text-right whitespace-nowrap"):
                name = str(item.get("name") or "").replace('"', "'")
                for icon, what, act, testid in self.actions(item):
                    ui.button(icon=icon, on_click=lambda i=item, a=act: a(i)).props(
                        f'flat round dense aria-label="{what}: {name}" data-testid="{testid}"'
                        + (" color=negative" if icon == "delete" else "")).tooltip(what)

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
            _actions(dialog, "Save", save, 'data-testid="file-rename-save"')
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
            _actions(dialog, "Save", save, 'data-testid="file-tags-save"')
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

            _actions(dialog, "Move to trash", confirm, 'color=negative data-testid="file-delete-confirm"')
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
            _actions(dialog, "Create", create, 'data-testid="files-mkdir-confirm"')
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
            ui.notify(f"Could not upload “{file.name}”: {_why(exc)}", type="negative")
            return
        ui.notify(f"Uploaded “{file.name}”", type="positive")
        await self.reload()

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
            page, failure = await _get(endpoints.STORAGE_FILES, urn=folder, limit=LIST_LIMIT)
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
            found, failure = await _get(endpoints.STORAGE_SEARCH, name=text, limit=LIST_LIMIT)
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
            found, failure = await _get(endpoints.STORAGE_TRASH)
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
                            ui.item_label(f"deleted {when(item.get('deleted_at'))}").props("caption")
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


async def render(user: Any, urn: str | None, q: str | None, view: str | None) -> None:
    store = app.storage.user
    sources, failure = await _get(endpoints.STORAGE_SOURCES)
    sources = sources if isinstance(sources, dict) else {}
    home = folder_urn(str(sources["home"])) if sources.get("home") else None
    names = [s["id"] for s in sources.get("sources") or []] + [m["name"] for m in sources.get("mounts") or []]
    folder = folder_urn(alias_home(urn, home, names)) if urn else home
    async with layout.frame(user, "Files"):
        holder = ui.element("div")
        if failure is not None:
            ui.label(f"Files are unavailable: {failure}").classes("text-negative").props('data-testid="files-error"')
        options = source_options(sources)
        with ui.row().classes("w-full items-center gap-2"):
            ui.button(icon="home", on_click=lambda: ui.navigate.to(files_url(home))).props(
                'flat round aria-label="Home folder" data-testid="files-home"').tooltip("Home")
            if options:
                here = chosen_option(folder or "", options) if folder and not (q or view) else None

                def pick_source(event: Any) -> None:
                    if event.value:
                        ui.navigate.to(files_url(event.value))

                ui.select(options, value=here, label="Source", on_change=pick_source).classes("w-48").props(
                    'dense data-testid="files-source"')
            search = ui.input("Search by name", value=q or "").classes("w-64").props(
                'dense clearable data-testid="files-search"')

            def find() -> None:
                text = str(search.value or "").strip()
                ui.navigate.to(files_url(q=text) if text else files_url(folder))

            search.on("keydown.enter", find)
            ui.button(icon="search", on_click=find).props(
                'flat round aria-label="Search" data-testid="files-search-go"')
            ui.space()
            if view == "trash":
                ui.button("Back to files", icon="folder", on_click=lambda: ui.navigate.to(files_url(folder))).props(
                    'flat data-testid="files-back"')
            else:
                ui.button("Trash", icon="delete", on_click=lambda: ui.navigate.to(files_url(view="trash"))).props(
                    'flat data-testid="files-trash-open"')
        page = FilesPage(store, home, holder)
        if view == "trash":
            a11y.heading("Trash")
            await page.trash()
        elif q:
            await page.search(q)
        elif folder:
            await page.browse(folder)


def register() -> None:
    @ui.page(PAGE)
    async def files_page(request: Request, urn: str | None = None, q: str | None = None,
                         view: str | None = None) -> RedirectResponse | None:
        here = files_url(urn, q=q, view=view)
        user = await session.require(here, request)
        if isinstance(user, RedirectResponse):
            return user
        await render(user, urn, q, view)
        return None
