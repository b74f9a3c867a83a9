"""A person's own account, in the browser: sign up from the sign-in page, the
mailed links (confirm the address, reset the password) open shell pages that
work, and bad input is named at its field."""

from __future__ import annotations

import re
import uuid
from typing import Any


def _mail(platform: Any, token: str, to: str, kind: str) -> dict[str, Any]:
    """The newest mail of `kind` to `to` in the development outbox (waits for it)."""
    found: list[dict[str, Any]] = []

    def arrived() -> bool:
        with platform.api(token) as client:
            answer = client.get("/api/auth/dev/mail", params={"to": to})
        assert answer.status_code == 200, answer.text
        found[:] = [m for m in answer.json() if m["kind"] == kind]
        return bool(found)

    assert platform.until(arrived), f"no {kind} mail to {to}"
    return found[0]


def _path_of_link(mail: dict[str, Any]) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+)", mail["body"])
    assert match, mail["body"]
    return match.group(1)


def test_sign_up_confirm_and_reset_a_password(shell: Any, platform: Any, admin_token: str) -> None:
    name = f"u{uuid.uuid4().hex[:8]}"
    email = f"{name}@example.com"
    page = shell.page
    shell.goto("/login")
    page.get_by_test_id("login-register").click()
    page.get_by_test_id("register-card").wait_for()
    page.get_by_test_id("register-email").fill(email)
    page.get_by_test_id("register-username").fill("admin")  # taken
    page.get_by_test_id("register-password").fill("Str0ng-enough-pass!")
    page.get_by_test_id("register-submit").click()
    page.get_by_text("That username is already taken").wait_for()  # shown at the field
    page.get_by_test_id("register-username").fill(name)
    page.get_by_test_id("register-submit").click()
    page.get_by_test_id("register-result").filter(has_text="Account created").wait_for()
    shell.shot("sign-up")

    shell.goto(_path_of_link(_mail(platform, admin_token, email, "verify")))  # the link in the mail
    page.get_by_test_id("verify-result").filter(has_text="confirmed").wait_for()
    shell.goto("/verify-email?token=not-a-real-token")
    page.get_by_test_id("verify-result").filter(has_text="does not work").wait_for()

    shell.goto("/login")
    page.get_by_test_id("login-forgot").click()
    page.get_by_test_id("forgot-email").fill(email)
    page.get_by_test_id("forgot-submit").click()
    page.get_by_test_id("forgot-result").filter(has_text=re.compile(".+")).wait_for()
    shell.goto(_path_of_link(_mail(platform, admin_token, email, "reset")))
    page.get_by_test_id("reset-password").fill("An0ther-str0ng-pass!")
    page.get_by_test_id("reset-confirm").fill("something else")
    page.get_by_test_id("reset-submit").click()
    page.get_by_text("The two passwords differ").wait_for()
    page.get_by_test_id("reset-confirm").fill("An0ther-str0ng-pass!")
    page.get_by_test_id("reset-submit").click()
    page.get_by_test_id("reset-result").filter(has_text="password is changed").wait_for()

    shell.sign_in(name, "An0ther-str0ng-pass!")  # the new password works in the browser
    assert page.get_by_test_id("welcome").inner_text() == f"Welcome, {name}"
