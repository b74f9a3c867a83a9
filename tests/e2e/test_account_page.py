"""My account (`/account`) in the browser, for a person of its own (never the
admin): reached from the user menu and Ctrl+K; the profile, an API key shown
once that works until revoked, a notification preference, and a password
change that ends the session."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "Acc0unt-page-Pass!"
NEW_PASSWORD = "N3w-acc0unt-Pass!"


def _person(platform: Any, admin_token: str) -> str:
    """A signed-up person who holds `tasks.read` (a key needs something to carry)."""
    name = f"a{uuid.uuid4().hex[:8]}"
    with platform.api() as client:
        made = client.post("/api/auth/register",
                           json={"email": f"{name}@example.com", "username": name, "password": PASSWORD})
    assert made.status_code == 201, made.text
    with platform.api(admin_token) as client:
        role = client.post("/api/auth/roles", json={"name": "keyholder", "permissions": ["tasks.read"]})
        assert role.status_code in (200, 201, 409), role.text
        granted = client.patch(f"/api/auth/users/{made.json()['id']}", json={"roles": ["user", "keyholder"]})
    assert granted.status_code == 200, granted.text
    return name


def _me(platform: Any, token: str) -> Any:
    with platform.api(token) as client:
        return client.get("/api/auth/me")


def test_my_account(shell_in_new_york: Any, platform: Any, admin_token: str) -> None:
    shell = shell_in_new_york  # the times it shows are New York's
    name = _person(platform, admin_token)
    page = shell.page
    shell.sign_in(name, PASSWORD)
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-account").click()
    page.wait_for_url(re.compile(r"/account$"))
    shell.palette("my account")  # and from Ctrl+K
    expect(page.get_by_test_id("palette-item").first).to_contain_text("My account")
    page.keyboard.press("Escape")

    # -- profile: a 422 at its field, then the display name saved -------------------------------
    expect(page.get_by_test_id("profile-username")).to_have_text(name)
    page.get_by_test_id("profile-display-name").fill("x" * 81)
    page.get_by_test_id("profile-save").click()
    page.get_by_text(re.compile("at most 80 characters")).wait_for()
    page.get_by_test_id("profile-display-name").fill("Ann Account")
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("profile-result")).to_have_text(re.compile("saved"))
    token = platform.login(name, PASSWORD)
    assert _me(platform, token).json()["profile"]["display_name"] == "Ann Account"
    shell.shot("account")

    # -- API keys: never more than the person holds; shown once; works until revoked --------------
    page.get_by_test_id("account-tab-keys").click()
    page.get_by_test_id("api-key-name").fill("e2e key")
    page.get_by_test_id("api-key-permissions").fill("auth.admin")
    page.get_by_test_id("api-key-create").click()
    page.get_by_text("An API key cannot hold permissions you do not have").wait_for()
    page.get_by_test_id("api-key-permissions").fill("tasks.read")
    page.get_by_test_id("api-key-create").click()
    page.get_by_test_id("api-key-warning").wait_for()
    key = page.get_by_test_id("api-key-secret").input_value()
    assert len(key) > 30
    assert _me(platform, key).status_code == 200
    row = page.get_by_test_id("api-key-row").filter(has_text="e2e key")
    expect(row).to_have_attribute("data-status", "active")
    expect(row).to_contain_text("tasks.read")
    page.get_by_test_id("api-key-hide").click()
    expect(page.get_by_test_id("api-key-secret")).to_have_count(0)  # gone for good
    row.get_by_test_id("api-key-revoke").click()
    page.get_by_test_id("api-key-revoke-confirm").click()
    expect(row).to_have_attribute("data-status", "revoked")
    assert platform.until(lambda: _me(platform, key).status_code == 401)
    # its dates as the person reads them where they are, never UTC's
    with platform.api(token) as client:
        made = next(k for k in client.get("/api/auth/me/api-keys").json() if k["name"] == "e2e key")
    said = lambda iso: shell.local_time(iso) if iso else "never"  # noqa: E731
    dates = (f"created {said(made['created_at'])} · expires {said(made['expires_at'])} · last used "
             f"{said(made['last_used_at'])} · revoked {said(made['revoked_at'])}")
    expect(row).to_contain_text(dates)
    expect(row.get_by_test_id("api-key-dates")).to_have_text(dates)
    assert made["expires_at"] and made["revoked_at"] and "UTC" not in row.inner_text()

    # -- preferences: one notification switch, kept in the person's settings ---------------------
    def notifications() -> dict[str, Any]:
        with platform.api(token) as client:
            answer = client.get("/api/settings/me/notifications")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert notifications()["values"]["push_enabled"] is False
    page.get_by_test_id("account-tab-preferences").click()
    page.locator('[data-testid="prefs-notifications"] [data-field="push_enabled"]').click()
    page.get_by_test_id("prefs-save").click()
    expect(page.get_by_test_id("prefs-state")).to_contain_text("push_enabled")
    saved = notifications()
    assert saved["values"]["push_enabled"] is True and saved["explicit"] == {"push_enabled": True}

    # -- password: wrong current one named at its field; then changed, signed out ---------------
    page.get_by_test_id("account-tab-password").click()
    page.get_by_test_id("password-current").fill("not my password")
    page.get_by_test_id("password-new").fill(NEW_PASSWORD)
    page.get_by_test_id("password-repeat").fill(NEW_PASSWORD + "x")
    page.get_by_test_id("password-submit").click()
    page.get_by_text("The two passwords differ").wait_for()
    page.get_by_test_id("password-repeat").fill(NEW_PASSWORD)
    page.get_by_test_id("password-submit").click()
    page.get_by_text("The current password is wrong").wait_for()
    page.get_by_test_id("password-current").fill(PASSWORD)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-result")).to_contain_text("password is changed")
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.get_by_test_id("login-notice")).to_contain_text("password is changed")
    with platform.api() as client:
        assert client.post("/api/auth/login", json={"login": name, "password": PASSWORD}).status_code == 401
    shell.sign_in(name, NEW_PASSWORD, "/account")
    expect(page.get_by_test_id("profile-display-name")).to_have_value("Ann Account")
