"""A file's preview: a side panel on the right of the Files page (a Quasar dialog, closed by
its button or Escape, named after the file). Images and PDFs come to the browser the way
downloads do — a short-lived signed share link through the gateway, not a token — as an
`<img>` (SVG too, so its scripts never run) and in the browser's own PDF viewer (an
`<iframe>`: storage lets this origin, and only it, frame an inline PDF). Text and Markdown
are read here as the person, the first `TEXT_LIMIT` bytes with a `Range` request; Markdown is
rendered by `ui.markdown`, whose HTML DOMPurify sanitises. Anything else: what it is, and a
download button."""

from __future__ import annotations

import codecs
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement

from webos_common.clients.session import ApiError, answer_body
from webos_shell import a11y, endpoints, local_time, runtime
from webos_shell.pages.files.actions import FAILURES, SHARE_SECONDS, FileActions, why
from webos_shell.pages.files.places import human_size, location, preview_kind, share_url

TEXT_LIMIT = 256 * 1024
CSS = """
[data-side-panel] > .q-dialog__inner--minimized { padding: 0; }
[data-side-panel] > .q-dialog__inner--minimized > div { max-height: 100vh; }
"""  # Quasar pads a dialog off the screen's edges; a side panel runs from top to bottom


def decode_start(data: bytes, *, whole: bool) -> str:
    """UTF-8 text of a file's first bytes; a character cut by the limit is dropped, not garbled."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=whole)


async def read_start(store: Any, item: dict[str, Any]) -> tuple[str | None, str | None]:
    """(the text of the file's first `TEXT_LIMIT` bytes, None) or (None, why not)."""
    if not item.get("size"):
        return "", None  # an empty file has no byte to ask a range of
    try:
        answer = await runtime.get().gateway.answer(
            store, "GET", endpoints.STORAGE_CONTENT, params={"urn": item["urn"]},
            headers={"Range": f"bytes=0-{TEXT_LIMIT - 1}"})
    except FAILURES as exc:
        return None, why(exc)
    if answer.status_code >= 400:
        return None, why(ApiError(answer.status_code, answer_body(answer)))
    data = answer.content[:TEXT_LIMIT]
    return decode_start(data, whole=len(data) >= int(item.get("size") or 0)), None


class FilePreview:
    """The panel for one file of `page`."""

    def __init__(self, page: FileActions, item: dict[str, Any]) -> None:
        self.page, self.item = page, item
        self.name = str(item.get("name") or "")
        self.kind = preview_kind(self.name, item.get("content_type"))

    async def open(self) -> None:
        with self.page.holder, ui.dialog().props("position=right data-side-panel") as dialog:
            dialog.props["aria-label"] = f"Preview of {self.name}"
            dialog.on("hide", dialog.delete)
            with ui.card().classes(
                    "w-[44rem] max-w-[100vw] h-screen rounded-none no-wrap overflow-y-auto gap-3") as card:
                card.props["data-testid"] = "file-preview"
                card.props["data-kind"] = self.kind
                self.header(dialog)
                body = ui.column().classes("w-full gap-2").props('data-testid="preview-body"')
        dialog.open()
        with body:
            await self.body()

    def header(self, dialog: ui.dialog) -> None:
        with ui.row().classes("w-full items-center no-wrap gap-2"):
            a11y.heading(self.name).classes("break-all").props('data-testid="preview-title"')
            ui.space()
            ui.button(icon="download", on_click=lambda: self.page.download(self.item)).props(
                'flat round aria-label="Download" data-testid="preview-download"').tooltip("Download")
            ui.button(icon="close", on_click=dialog.close).props(
                'flat round aria-label="Close the preview" data-testid="preview-close"').tooltip("Close")
        facts = (("In", location(str(self.item["urn"]), self.page.home), "preview-location"),
                 ("Size", human_size(self.item.get("size")), "preview-size"),
                 ("Type", str(self.item.get("content_type") or "unknown"), "preview-type"),
                 ("Modified", local_time.moment(self.item.get("modified")), "preview-modified"))
        with ui.element("dl").classes("grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm m-0"):
            for label, value, testid in facts:
                TextElement(tag="dt", text=label).classes("text-gray-500")
                said = TextElement(tag="dd", text=value) if isinstance(value, str) else local_time.MomentText(
                    value, tag="dd")  # a time: in the person's own time zone
                said.classes("m-0 break-all").props(f'data-testid="{testid}"')

    async def body(self) -> None:
        if self.kind in ("image", "pdf"):
            share = await self.page.call("preview", "POST", endpoints.STORAGE_SHARES,
                                         {"urn": self.item["urn"], "expires_in": SHARE_SECONDS})
            if share:
                self.framed(share_url(share, download=False))
        elif self.kind in ("text", "markdown"):
            await self.text()
        else:
            ui.label("There is no preview for this kind of file; download it to open it.").classes(
                "text-gray-500").props('data-testid="preview-fallback"')

    def framed(self, url: str) -> None:
        if self.kind == "image":
            image = ui.element("img").classes("max-w-full max-h-[75vh] object-contain mx-auto")
            image.props.update({"src": url, "alt": self.name, "data-testid": "preview-image"})
        else:
            frame = ui.element("iframe").classes("w-full border-0").style("height: 75vh")
            frame.props.update({"src": url, "title": f"PDF: {self.name}", "data-testid": "preview-pdf"})

    async def text(self) -> None:
        text, failure = await read_start(self.page.store, self.item)
        if text is None:
            ui.label(f"This file cannot be shown: {failure}").classes("text-negative").props(
                'data-testid="preview-error"')
            return
        size = int(self.item.get("size") or 0)
        if size > TEXT_LIMIT:
            ui.label(f"The first {human_size(TEXT_LIMIT)} of {human_size(size)}.").classes(
                "text-sm text-gray-500").props('data-testid="preview-cut"')
        if self.kind == "markdown":
            ui.markdown(text).classes("w-full").props('data-testid="preview-markdown"')  # DOMPurify: no script
        else:
            ui.label(text).classes("w-full whitespace-pre-wrap break-words font-mono text-sm").props(
                'data-testid="preview-text"')
