"""User content is never active on the platform's origin: nosniff and a
sandbox CSP on every download and share link; only inert types inline. Nothing
may be framed but a PDF shown inline, and that by this origin only (Chromium's
PDF viewer shows nothing in a sandboxed document, so that answer has none)."""

from __future__ import annotations

import pytest

SCRIPT = b"<html><script>fetch('/api/auth/api-keys', {method: 'POST'})</script></html>"


@pytest.mark.parametrize(("name", "ctype", "inline"), [
    ("page.html", "text/html", False),
    ("logo.svg", "image/svg+xml", False),
    ("data.xml", "application/xml", False),
    ("photo.png", "image/png", True),
    ("report.pdf", "application/pdf", True),
    ("notes.txt", "text/plain; charset=utf-8", True),
])
async def test_downloads_and_share_links_are_served_inert(storage_app, name, ctype, inline) -> None:
    async with storage_app() as h:
        urn = f"fs://local/home/alice/{name}"
        put = await h.client.put("/files/content", params={"urn": urn}, content=SCRIPT,
                                 headers={**h.as_user("alice"), "content-type": ctype})
        assert put.status_code == 201, put.text
        direct = await h.get(urn)
        share = await h.client.post("/shares", json={"urn": urn}, headers=h.as_user("alice"))
        shared = await h.client.get(share.json()["path"])
        forced = await h.client.get("/files/content", params={"urn": urn, "download": "true"},
                                    headers=h.as_user("alice"))
    framed_pdf = inline and ctype == "application/pdf"
    for resp in (direct, shared, forced):
        assert resp.status_code == 200
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.content == SCRIPT
        csp = resp.headers["content-security-policy"]
        if framed_pdf and resp is not forced:
            assert csp == "default-src 'none'; frame-ancestors 'self'"
            assert resp.headers["x-frame-options"] == "SAMEORIGIN"
        else:
            assert csp.startswith("sandbox") and csp.endswith("frame-ancestors 'none'")
            assert resp.headers["x-frame-options"] == "DENY"
    expected = "inline" if inline else "attachment"
    assert direct.headers["content-disposition"].startswith(expected)
    assert shared.headers["content-disposition"].startswith(expected)
    assert forced.headers["content-disposition"].startswith("attachment")
