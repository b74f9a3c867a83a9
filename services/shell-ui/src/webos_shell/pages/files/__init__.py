"""Files (`/files`): the person's files in the Abstract File System, over
storage's API through the gateway with their own token.

A file's name opens its preview in a side panel (`preview.py`).
`?urn=<folder>` opens a folder (default: the person's home, as storage's
`GET /sources` names it; `fs://home/…` is an alias of it unless a source or
mount is called `home`), `?q=<name>` searches by name, `?view=trash` shows
the trash with restore. Uploads go to the folder shown (`PUT /files/content`,
an existing file of that name is replaced); downloads are short-lived signed
share links the browser fetches from the gateway itself, so no file passes
through the shell. NiceGUI's upload route sits behind the gateway's default
body limit, hence `MAX_UPLOAD`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from webos_common.files.afs import folder_urn
from webos_shell import a11y, endpoints, layout, session
from webos_shell.pages.files.actions import fetch
from webos_shell.pages.files.places import PAGE, alias_home, chosen_option, files_url, source_options
from webos_shell.pages.files.preview import CSS as PREVIEW_CSS
from webos_shell.pages.files.views import FilesPage


async def render(user: Any, urn: str | None, q: str | None, view: str | None) -> None:
    store = app.storage.user
    sources, failure = await fetch(endpoints.STORAGE_SOURCES)
    sources = sources if isinstance(sources, dict) else {}
    home = folder_urn(str(sources["home"])) if sources.get("home") else None
    names = [s["id"] for s in sources.get("sources") or []] + [m["name"] for m in sources.get("mounts") or []]
    folder = folder_urn(alias_home(urn, home, names)) if urn else home
    async with layout.frame(user, "Files"):
        ui.add_css(PREVIEW_CSS)
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
