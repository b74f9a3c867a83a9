"""The command palette in a real browser: ready to type the instant Ctrl+K
is pressed, forgiving a typo, and the kernel's commands (light/dark, sign out)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _typed_at_once(shell: Any, keys: str) -> Any:
    """Ctrl+K and the keys straight after it, as a person types; the palette's text box."""
    shell.page.keyboard.press("Control+k")
    shell.page.keyboard.type(keys)
    return shell.page.get_by_test_id("palette-input")


def test_keys_typed_right_after_ctrl_k_are_kept(admin: Any) -> None:
    admin.open("/")
    for _ in range(2):  # and again once it was closed
        box = _typed_at_once(admin, "files")
        expect(box).to_have_value("files")
        expect(box).to_be_focused()
        expect(admin.page.get_by_test_id("palette-item").first).to_contain_text("Files")
        admin.page.keyboard.press("Escape")
        expect(box).to_be_hidden()
    _typed_at_once(admin, "files")
    admin.page.keyboard.press("Enter")
    admin.page.wait_for_url(re.compile(r"/files$"))


def test_a_typo_finds_its_target(admin: Any) -> None:
    admin.open("/")
    admin.palette("modlue manager")  # filled in: the typo alone, whatever the keyboard does
    expect(admin.page.get_by_test_id("palette-item").first).to_contain_text("Module manager")
    admin.page.keyboard.press("Enter")
    admin.page.wait_for_url(re.compile(r"/admin/modules$"))


def test_light_and_dark_from_the_palette(admin: Any) -> None:
    admin.open("/")
    start = "body--dark" if "body--dark" in (admin.page.locator("body").get_attribute("class") or "") else "body--light"
    other = "body--light" if start == "body--dark" else "body--dark"
    for expected in (other, start):  # toggled, then back as it was
        admin.page.get_by_test_id("page-title").wait_for()
        _typed_at_once(admin, "dark theme")
        expect(admin.page.get_by_test_id("palette-item").first).to_contain_text("Toggle light / dark theme")
        admin.page.keyboard.press("Enter")
        admin.page.locator(f"body.{expected}").wait_for()


def test_sign_out_from_the_palette(shell: Any, member: tuple[str, str]) -> None:
    shell.sign_in(*member)
    _typed_at_once(shell, "sign out")
    expect(shell.page.get_by_test_id("palette-item").first).to_contain_text("Sign out")
    shell.page.keyboard.press("Enter")
    shell.page.wait_for_url(re.compile(r"/login"))
    expect(shell.page.get_by_test_id("login-notice")).to_have_text("You are signed out.")
    shell.goto("/")
    shell.page.wait_for_url(re.compile(r"/login\?next="))
