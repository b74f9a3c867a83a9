"""The edge in a real browser: an uploaded HTML file runs no script in the
shell's origin (not even declared a PDF, the one type this origin may frame),
and a cross-site form post with the person's cookie is refused."""

from __future__ import annotations

import uuid
from typing import Any

SCRIPT = b"<html><body><script>localStorage.setItem('pwned', '1')</script>owned</body></html>"
EVIL = "http://evil.test"


def _shared(platform: Any, token: str, content_type: str, suffix: str) -> str:
    with platform.api(token) as client:
        home = client.get("/api/storage/sources").json()["home"]
        urn = f"{home}x-{uuid.uuid4().hex[:6]}{suffix}"
        put = client.put("/api/storage/files/content", params={"urn": urn}, content=SCRIPT,
                         headers={"content-type": content_type})
        assert put.status_code == 201, put.text
        share = client.post("/api/storage/shares", json={"urn": urn})
    assert share.status_code == 201, share.text
    return f"{platform.url}/api/storage{share.json()['path']}"


def test_an_uploaded_html_file_runs_no_script_in_the_shell_origin(page: Any, platform: Any,
                                                                   admin_token: str) -> None:
    as_html = _shared(platform, admin_token, "text/html", ".html")
    as_image = _shared(platform, admin_token, "image/png", ".png")  # a lie: nosniff keeps it an image
    as_pdf = _shared(platform, admin_token, "application/pdf", ".pdf")  # framable and unsandboxed, yet a PDF
    page.goto(f"{platform.url}/login")
    with page.expect_download():  # an attachment, not a document
        page.evaluate("url => { const f = document.createElement('iframe'); f.src = url;"
                      " document.body.appendChild(f); }", as_html)
    page.goto(as_image)
    page.goto(f"{platform.url}/login")
    page.evaluate("url => { const f = document.createElement('iframe'); f.src = url;"
                  " document.body.appendChild(f); }", as_pdf)
    page.wait_for_timeout(1500)  # the viewer finds no PDF in it; nothing else happens
    assert page.evaluate("localStorage.getItem('pwned')") is None


def test_a_cross_site_form_post_is_refused(browser: Any, platform: Any, admin_token: str) -> None:
    context = browser.new_context()
    try:
        context.add_cookies([{"name": "access_token", "value": admin_token, "url": platform.url}])
        page = context.new_page()
        form = (f"<form id=f method=post action='{platform.url}/api/events/notifications/read-all'></form>"
                "<script>document.getElementById('f').submit()</script>")
        page.route(f"{EVIL}/**", lambda route: route.fulfill(status=200, content_type="text/html", body=form))
        with page.expect_response(lambda r: r.url.endswith("/read-all")) as answer:
            page.goto(f"{EVIL}/attack")
        refused = answer.value
        assert refused.status == 403, refused.text()
        assert refused.json()["error"]["code"] == "cross_site_refused"
        own = context.request.post(f"{platform.url}/api/events/notifications/read-all",
                                   headers={"Origin": platform.url})
        assert own.status == 200, own.text()  # the same cookie from the platform's own origin works
    finally:
        context.close()
