"""The shell's side of WebOS as an OpenID Provider, in the browser: an admin registers an app
(its secret shown once), a signed-out person the app sends to WebOS signs in, sees what the app
asks for, allows it and is sent back to the app with a code; then finds the app on My account
and revokes it. The protocol itself is test_openid_provider.py's."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CALLBACK = "https://wiki.example/callback"
PASSWORD = "Consent-page-Pass1!"


def test_an_admin_registers_an_app_and_a_person_allows_then_revokes_it(admin: Any, other: Any,
                                                                      platform: Any) -> None:
    name = f"Wiki {uuid.uuid4().hex[:6]}"
    admin.open("/admin/apps")
    admin.page.get_by_test_id("client-name").fill(name)
    admin.page.get_by_test_id("client-redirects").fill(CALLBACK)
    admin.page.get_by_test_id("client-register").click()
    expect(admin.page.get_by_test_id("client-secret")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{40,}$"),
                                                                     timeout=15_000)
    client_id = admin.page.get_by_test_id("client-id").inner_text().removeprefix("Client ID: ")
    expect(admin.page.locator(f'[data-client="{client_id}"]')).to_contain_text(name)
    admin.open("/admin/apps")  # shown once: not on the page again
    expect(admin.page.get_by_test_id("client-secret")).to_have_count(0)

    person, _ = platform.sign_up(PASSWORD)
    page = other.page
    page.route("https://wiki.example/**", lambda route: route.fulfill(body="the wiki", content_type="text/plain"))
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
             "scope": "openid profile email", "state": "st4te", "code_challenge": "E" * 43,
             "code_challenge_method": "S256"}
    page.goto(f"{platform.url}/api/auth/oauth/authorize?{urlencode(query)}")
    page.get_by_test_id("login-name").fill(person)  # signed out: sign in first, then back
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    card = page.get_by_test_id("consent-card")
    expect(card).to_contain_text(f"{name} wants to sign you in", timeout=20_000)  # a page load on a busy machine
    expect(card.locator("[data-scope]")).to_have_count(3)
    other.shot("openid-consent")
    page.get_by_test_id("consent-allow").click()
    page.wait_for_url(re.compile(r"^https://wiki\.example/callback\?"))
    back = parse_qs(urlsplit(page.url).query)
    assert back["state"] == ["st4te"] and back["code"][0]

    other.open("/account?tab=apps")
    row = page.locator(f'[data-testid="my-app"][data-client="{client_id}"]')
    expect(row).to_contain_text(name, timeout=15_000)
    row.get_by_test_id("my-app-revoke").click()
    expect(page.get_by_test_id("my-apps-none")).to_be_visible()
