"""HTTP details of downloads: `Range`, `ETag`/`If-None-Match`, headers.

User content is never active on the platform's origin: every download (and
share link) says `nosniff` and `Content-Security-Policy: sandbox`, and only
types that cannot carry script (raster images, PDF, plain text) are shown
inline; everything else — HTML, SVG, XML, scripts — is an attachment. No
answer may be framed, except a PDF shown inline, which this origin's own pages
may frame (the shell's Files preview): `frame-ancestors 'self'` and
`SAMEORIGIN`, and no `sandbox`, since Chromium's PDF viewer shows nothing in a
sandboxed document (its `default-src 'none'` still forbids the document any
script of its own).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from webos_common.files.afs import ByteStream, FileMetadata
from webos_common.http.errors import error_response

INLINE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/x-icon",
    "application/pdf", "text/plain",
})
FILE_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; "
            "frame-ancestors 'none'")
FRAMED_PDF_CSP = "default-src 'none'; frame-ancestors 'self'"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(start, length) of a single satisfiable range; None = whole file; "bad" = 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None  # unsupported forms (several ranges…) get the whole file, as RFC 9110 allows
    first, last = match.group(1), match.group(2)
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "bad"
        start = max(0, size - suffix)
        return start, size - start
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "bad"
    return start, end - start + 1


def etag_matches(header: str | None, etag: str | None) -> bool:
    if not header or not etag:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def inline_safe(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in INLINE_TYPES


def framing(content_type: str, *, inline: bool) -> dict[str, str]:
    """The CSP and frame headers: only an inline PDF may be framed, by this origin only."""
    if inline and content_type.split(";", 1)[0].strip().lower() == "application/pdf":
        return {"Content-Security-Policy": FRAMED_PDF_CSP, "X-Frame-Options": "SAMEORIGIN"}
    return {"Content-Security-Policy": FILE_CSP, "X-Frame-Options": "DENY"}


def base_headers(meta: FileMetadata, content_type: str, *, download: bool) -> dict[str, str]:
    inline = not download and inline_safe(content_type)
    disposition = "inline" if inline else "attachment"
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(meta.name)}",
               "X-Content-Type-Options": "nosniff", **framing(content_type, inline=inline)}
    if meta.etag:
        headers["ETag"] = meta.etag
    if meta.modified:
        headers["Last-Modified"] = meta.modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return headers


def not_modified_or_range(request: Request, meta: FileMetadata) -> Response | tuple[int, int] | None:
    """A 304/416 answer, or the range to send (None = everything)."""
    if etag_matches(request.headers.get("if-none-match"), meta.etag):
        return Response(status_code=304, headers={"ETag": meta.etag or ""})
    wanted = parse_range(request.headers.get("range"), meta.size)
    if isinstance(wanted, str):  # "bad"
        return error_response(416, "range_not_satisfiable", f"Range not satisfiable for {meta.size} bytes",
                              {"size": meta.size}, headers={"Content-Range": f"bytes */{meta.size}"})
    if isinstance(wanted, tuple):
        ifrange = request.headers.get("if-range")
        if ifrange and ifrange != meta.etag:
            return None
    return wanted


def stream_response(meta: FileMetadata, content_type: str | None, stream: ByteStream | None,
                    wanted: tuple[int, int] | None, *, download: bool) -> Response:
    """The download answer; with no `stream` (a HEAD request) the same headers and no body."""
    media_type = content_type or meta.content_type or "application/octet-stream"
    headers = base_headers(meta, media_type, download=download)
    if wanted is None:
        headers["Content-Length"] = str(meta.size)
        status = 200
    else:
        start, length = wanted
        headers["Content-Length"] = str(length)
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{meta.size}"
        status = 206
    if stream is None:
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(stream, status_code=status, headers=headers, media_type=media_type)
