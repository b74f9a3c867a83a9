"""Files (`/files`): a file's preview in the side panel, as the admin in a folder of their
home. A PNG is drawn (the `<img>` decoded it), an SVG too (its script never runs), a PDF is
framed in the browser's own viewer (its share link answers `application/pdf` and lets this
origin frame it), Markdown is rendered with its `<script>` and event handlers stripped, a
long log shows its first 256 KiB as text, and a `.bin` gets the fallback: what it is and a
download button. The panel names the folder as a person reads it, has no serious
accessibility violation, and Escape closes it with the focus back on the file."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARKDOWN = (b"# Quarterly report\n\nSales are **up**.\n\n"
            b"<script>window.previewScriptRan = true</script>\n\n"
            b'<img src="nowhere.png" onerror="window.previewHandlerRan = true">\n')
BLOB = bytes(range(256)) * 4
LOG = b"<b>not bold</b>\n" + b"a line of the log\n" * 20_000  # 350 KiB: more than a preview reads
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="teal"/>'
       b"<script>parent.previewSvgRan = true; window.previewSvgRan = true</script></svg>")


def png(width: int = 24, height: int = 16) -> bytes:
    """A valid RGB PNG, one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x1d\x4e\xd8" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pdf(text: str = "Quarterly report") -> bytes:
    """A valid one-page PDF that says `text` (its cross-reference offsets computed)."""
    stream = f"BT /F1 24 Tf 40 70 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 320 144] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def _row(page: Any, name: str) -> Any:
    return page.locator(f'[data-testid="file-row"][data-name="{name}"]')


def _open(page: Any, name: str, *, by: str = "file-name", keyboard: bool = False) -> Any:
    """Opens `name`'s preview (by its name or its Preview button, clicked or with Enter): the
    panel, named after it."""
    control = _row(page, name).get_by_test_id(by)
    if keyboard:
        control.focus()
        page.keyboard.press("Enter")
    else:
        control.click()
    panel = page.get_by_role("dialog", name=f"Preview of {name}")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("preview-title")).to_have_text(name)
    return panel


def _viewer_opened(page: Any, seconds: float = 10) -> bool:
    """Chromium's PDF viewer runs in a frame of its own inside the framed PDF."""
    for _ in range(int(seconds * 5)):
        if any(frame.url.startswith("chrome-extension://") for frame in page.frames):
            return True
        page.wait_for_timeout(200)
    return False


def _close(page: Any, panel: Any) -> None:
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)


def test_previews_in_the_side_panel(admin: Any, platform: Any, admin_token: str) -> None:
    page = admin.page
    tag = uuid.uuid4().hex[:8]
    folder = f"Reports-{tag}"
    files = {f"chart-{tag}.png": ("image/png", png()), f"report-{tag}.pdf": ("application/pdf", pdf()),
             f"notes-{tag}.md": ("text/markdown", MARKDOWN), f"blob-{tag}.bin": ("application/octet-stream", BLOB),
             f"logo-{tag}.svg": ("image/svg+xml", SVG), f"server-{tag}.log": ("text/plain", LOG)}
    with platform.api(admin_token) as client:
        home = client.get("/api/storage/sources").json()["home"]
        assert client.post("/api/storage/files/mkdir", json={"urn": f"{home}{folder}/"}).status_code == 201
    admin.open("/files?" + urlencode({"urn": f"{home}{folder}/"}))
    for name, (ctype, content) in files.items():  # through the page's uploader, one by one
        page.get_by_test_id("files-upload").locator('input[type="file"]').set_input_files(
            {"name": name, "mimeType": ctype, "buffer": content})
        expect(_row(page, name)).to_have_count(1)
    png_name, pdf_name, md_name, bin_name, svg_name, log_name = files

    # -- an image (by keyboard): drawn, scaled to the panel; the folder as a person reads it -----
    panel = _open(page, png_name, keyboard=True)
    expect(panel.get_by_test_id("preview-location")).to_have_text(f"Home / {folder}")
    image = panel.get_by_test_id("preview-image")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 24
    assert not re.search(r"token|access", image.get_attribute("src") or "")  # a share link, no bearer
    page.wait_for_timeout(400)  # the panel has slid in
    grave = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not grave, grave
    _close(page, panel)
    expect(_row(page, png_name).get_by_test_id("file-name")).to_be_focused()  # back where the person was

    # -- an SVG: only ever an <img>, where its script cannot run ------------------------------------
    panel = _open(page, svg_name)
    image = panel.get_by_test_id("preview-image")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 40
    assert page.evaluate("window.previewSvgRan") is None
    _close(page, panel)

    # -- a PDF: framed, from a same-origin share link the browser's own viewer shows ----------
    panel = _open(page, pdf_name, by="file-preview")
    frame = panel.get_by_test_id("preview-pdf")
    src = frame.get_attribute("src") or ""
    assert src.startswith("/api/storage/shares/") and "download" not in src
    answer = page.request.get(platform.url + src)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.body() == files[pdf_name][1]
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "sandbox" not in csp  # a sandboxed PDF shows nothing
    assert _viewer_opened(page), [f.url for f in page.frames]  # the framed answer reached the PDF viewer
    expect(page.locator(".q-notification")).to_have_count(0, timeout=15_000)  # the upload toasts are gone
    page.wait_for_timeout(1000)  # the viewer draws the page
    admin.shot("file-preview")
    _close(page, panel)

    # -- Markdown: rendered, its script and handlers gone ----------------------------------------
    panel = _open(page, md_name)
    rendered = panel.get_by_test_id("preview-markdown")
    expect(rendered.locator("h1")).to_have_text("Quarterly report")
    expect(rendered.locator("strong")).to_have_text("up")
    expect(rendered.locator("script")).to_have_count(0)
    page.wait_for_timeout(300)  # the stripped image would have failed to load by now
    assert page.evaluate("[window.previewScriptRan, window.previewHandlerRan]") == [None, None]
    _close(page, panel)

    # -- plain text: its first 256 KiB, as text (markup shown, not applied) --------------------------
    panel = _open(page, log_name)
    expect(panel.get_by_test_id("preview-cut")).to_have_text("The first 256.0 KiB of 351.6 KiB.")
    text = panel.get_by_test_id("preview-text")
    expect(text).to_contain_text("<b>not bold</b>")
    expect(text.locator("b")).to_have_count(0)
    assert text.evaluate("el => el.textContent.length") == 256 * 1024
    _close(page, panel)

    # -- anything else: what it is, and a download of the same bytes ------------------------------
    panel = _open(page, bin_name)
    expect(panel.get_by_test_id("preview-fallback")).to_be_visible()
    expect(panel.get_by_test_id("preview-size")).to_have_text("1.0 KiB")
    expect(panel.get_by_test_id("preview-type")).to_have_text("application/octet-stream")
    with page.expect_download() as download:
        panel.get_by_test_id("preview-download").click()
    assert Path(download.value.path()).read_bytes() == BLOB
    panel.get_by_test_id("preview-close").click()
    expect(panel).to_have_count(0)
