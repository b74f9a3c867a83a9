"""My account's pure helpers: request bodies, client-side checks, server
errors placed at their input, API keys in words."""

from __future__ import annotations

from datetime import UTC, datetime

from webos_common.identity import User
from webos_shell import palette_items
from webos_shell.pages.account import calls, keys, preferences, profile

ME = {"id": "u1", "username": "ann", "email": "ann@example.com",
      "profile": {"display_name": "Ann", "bio": "hello", "avatar_url": None}}


def test_profile_changes_send_only_what_differs() -> None:
    same = {"username": "ann", "display_name": "Ann", "bio": "hello", "avatar_url": ""}
    assert profile.profile_changes(ME, same) == {}
    assert profile.profile_changes(ME, {**same, "display_name": " Ann B. "}) == {"profile": {"display_name": "Ann B."}}
    assert profile.profile_changes(ME, {**same, "bio": ""}) == {"profile": {"bio": None}}  # emptied: cleared
    assert profile.profile_changes(ME, {**same, "username": "annie"}) == {"username": "annie"}
    assert profile.profile_changes(ME, {**same, "username": "  "}) == {}  # never an empty user name
    assert profile.profile_changes({"username": "bo"}, {"username": "bo", "display_name": "Bo"}) == {
        "profile": {"display_name": "Bo"}}


def test_password_problems_before_asking_the_server() -> None:
    assert profile.password_problems("old", "N3w-long-pass!", "N3w-long-pass!") == {}
    assert profile.password_problems("", "", "") == {"current_password": "Required", "new_password": "Required"}
    assert profile.password_problems("old", "N3w-long-pass!", "other") == {"repeat": "The two passwords differ"}
    assert set(profile.password_problems("same", "same", "same")) == {"new_password"}


def test_server_errors_land_at_the_input_they_name() -> None:
    placed, rest = calls.place_errors(
        {"profile.display_name": "too long", "permissions.0": "bad", "token": "odd", "": "broken"},
        ["display_name", "permissions"])
    assert placed == {"display_name": "too long", "permissions": "bad"}
    assert rest == "token: odd; broken"
    assert calls.place_errors({"current_password": "wrong"}, ["current_password"]) == (
        {"current_password": "wrong"}, "")


def test_api_key_requests() -> None:
    assert keys.parse_permissions(" tasks.read,tasks.write  tasks.read,, ") == ["tasks.read", "tasks.write"]
    assert keys.parse_permissions(None) == []
    body, errors = keys.key_request(" ci ", "tasks.read", 30.0)
    assert errors == {} and body == {"name": "ci", "permissions": ["tasks.read"], "expires_in_days": 30}
    assert keys.key_request("ci", "tasks.*", None)[0] == {"name": "ci", "permissions": ["tasks.*"],
                                                            "expires_in_days": None}  # never expires
    body, errors = keys.key_request("", "", 0)
    assert body is None and set(errors) == {"name", "permissions", "expires_in_days"}
    assert "expires_in_days" in keys.key_request("x", "a", 99999)[1]


def test_api_keys_in_words() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    key = {"id": "abc123", "name": "ci", "prefix": "wos_abc123_xy", "permissions": ["tasks.read", "tasks.write"],
           "created_at": "2026-05-01T10:20:30.123000", "expires_at": "2026-07-30T10:20:30Z", "revoked_at": None,
           "last_used_at": None}
    row = keys.key_row(key, now)
    assert row == {"id": "abc123", "name": "ci", "prefix": "wos_abc123_xy", "permissions": "tasks.read, tasks.write",
                   "details": ["created ", {"instant": "2026-05-01T10:20:30.123000"}, " · expires ",
                               {"instant": "2026-07-30T10:20:30Z"}, " · last used never"],  # said by the browser
                   "status": "active"}
    assert keys.key_status({**key, "expires_at": "2026-05-31T00:00:00+00:00"}, now) == "expired"
    assert keys.key_status({**key, "revoked_at": "2026-05-02T00:00:00"}, now) == "revoked"
    assert keys.key_row({**key, "expires_at": None}, now)["details"][2:] == [" · expires never · last used never"]
    assert keys.key_row({**key, "revoked_at": "2026-05-02T00:00:00"}, now)["details"][-2:] == [
        " · last used never · revoked ", {"instant": "2026-05-02T00:00:00"}]
    assert keys.key_row({**key, "id": 'x" onclick="y'}, now)["id"] == "xonclicky"  # safe in a prop


def test_preferences_send_only_changes_and_say_what_is_saved() -> None:
    current = {"email_enabled": True, "push_enabled": False, "digest_frequency": "daily"}
    assert preferences.changed_values({**current, "push_enabled": True}, current) == {"push_enabled": True}
    assert preferences.changed_values(current, current) == {}
    assert "defaults" in preferences.saved_state({"values": current, "explicit": {}, "version": 0})
    said = preferences.saved_state({"values": current, "explicit": {"push_enabled": True}, "version": 3})
    assert "version 3" in said and "push_enabled" in said


def test_everyone_finds_my_account_in_the_palette() -> None:
    items = palette_items.build(User(id="n", username="nobody"), [])
    assert any(i.path == "/account" for i in items)
    assert palette_items.search("my acc", items)[0].path == "/account"
