"""The first day in the browser: a new person signs up and creates a task at once; an
admin creates a role by checkbox and grants it with the role picker and the person's nav
changes; a task assigned to a colleague is in their "Assigned to me"; 2FA set up and
used at sign-in."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pyotp
from playwright.sync_api import expect

PASSWORD = "first-day-pass-1234"




def test_a_new_person_creates_a_task_at_once(shell: Any, platform: Any, tasks_api: str) -> None:
    name, _ = platform.sign_up(PASSWORD)
    shell.sign_in(name, PASSWORD)
    shell.page.get_by_test_id("nav").get_by_text("Tasks", exact=True).click()
    # the tasks module's sidebar count (its own piece, in a frame) follows what the grid writes
    counter = shell.page.frame_locator('[data-testid="module-frame"][data-view="open_count"]').get_by_test_id(
        "tasks-open-count")
    expect(counter).to_contain_text("0 open tasks")
    shell.page.get_by_test_id("explorer-new").click()
    dialog = shell.page.get_by_test_id("create-dialog")
    shell.page.locator('[data-field="title"]').fill("My first day")
    dialog.get_by_test_id("create-submit").click()
    dialog.wait_for(state="hidden")
    shell.page.locator(".ag-row", has_text="My first day").wait_for()
    expect(counter).to_contain_text("1 open task")  # the page was not loaded again: its piece was
    shell.shot("first-day-task")


def test_admin_grants_a_role_by_checkbox_and_picker(admin: Any, browser: Any, platform: Any,
                                                    admin_token: str) -> None:
    name, _ = platform.sign_up(PASSWORD)
    role = f"r{uuid.uuid4().hex[:6]}"
    admin.open("/admin/roles")
    admin.page.get_by_test_id("role-new").click()
    dialog = admin.page.get_by_test_id("role-dialog")
    dialog.get_by_test_id("role-name").fill(role)
    for permission in ("auth.users.read", "auth.roles.read", "auth.mail.read"):
        dialog.locator(f'[data-permission="{permission}"]').click()
    dialog.get_by_test_id("role-save").click()
    admin.page.get_by_test_id(f"role-{role}").wait_for()
    with platform.api(admin_token) as client:
        assert client.get(f"/api/auth/roles/{role}").json()["permissions"] == [
            "auth.mail.read", "auth.roles.read", "auth.users.read"]
    admin.open("/admin/users")
    admin.page.get_by_test_id("users-grid").locator(".ag-row", has_text=name).click()
    admin.choose(admin.page.get_by_test_id("user-roles"), role)
    admin.page.keyboard.press("Escape")
    admin.page.get_by_test_id("user-save").click()
    admin.page.get_by_test_id("user-dialog").wait_for(state="hidden")
    with platform.api(admin_token) as client:
        found = client.get("/api/auth/users", params={"q": name}).json()["items"][0]
    assert role in found["roles"]
    trail = platform.api(admin_token).get("/api/auth/audit", params={"target": f"user:{found['id']}"}).json()
    assert trail["items"][0]["action"] == "user.roles_changed"


def test_assigned_to_me_and_two_factor_sign_in(shell: Any, platform: Any, tasks_api: str) -> None:
    ann, _ = platform.sign_up(PASSWORD)
    bob, bob_id = platform.sign_up(PASSWORD)
    token = platform.login(ann, PASSWORD)
    title = f"call {uuid.uuid4().hex[:6]}"
    with platform.api(token) as client:
        made = client.post("/api/tasks/tasks", json={"title": title, "assignees": [bob_id]})
        assert made.status_code == 201, made.text
    shell.sign_in(bob, PASSWORD)
    shell.page.get_by_test_id("nav").get_by_text("Assigned to me").click()
    shell.page.locator(".ag-row", has_text=title).wait_for()
    shell.shot("assigned-to-me")
    shell.goto("/account?tab=twofactor")
    shell.page.get_by_test_id("twofactor-start").click()
    secret = shell.page.get_by_test_id("twofactor-secret").inner_text().strip()
    shell.page.get_by_test_id("twofactor-code").fill(pyotp.TOTP(secret).now())
    shell.page.get_by_test_id("twofactor-enable").click()
    shell.page.get_by_test_id("twofactor-recovery").wait_for()
    shell.goto("/logout")
    shell.page.get_by_test_id("login-name").fill(bob)
    shell.page.get_by_test_id("login-password").fill(PASSWORD)
    shell.page.get_by_test_id("login-submit").click()
    otp = shell.page.get_by_test_id("login-otp")
    otp.wait_for()
    otp.fill(pyotp.TOTP(secret).at(int(time.time()) + 30))  # the current step was spent enabling
    shell.page.get_by_test_id("login-submit").click()
    shell.page.get_by_test_id("page-title").wait_for()


def _nav_has(shell: Any, label: str) -> bool:
    nav = shell.page.get_by_test_id("nav")
    nav.wait_for()
    return nav.get_by_text(label, exact=True).count() > 0


def _set_roles(platform: Any, admin_token: str, user_id: str, roles: list[str]) -> None:
    with platform.api(admin_token) as client:
        changed = client.patch(f"/api/auth/users/{user_id}", json={"roles": roles})
    assert changed.status_code == 200, changed.text


def _signed_out_then_in(shell: Any, name: str) -> None:
    """The open session is ended with the reason shown; the person signs in again."""
    shell.goto("/")
    reason = shell.page.get_by_test_id("login-reason")
    reason.wait_for()
    assert "changed your roles" in reason.inner_text()
    shell.page.get_by_test_id("login-name").fill(name)
    shell.page.get_by_test_id("login-password").fill(PASSWORD)
    shell.page.get_by_test_id("login-submit").click()
    shell.page.get_by_test_id("page-title").wait_for()


def test_the_nav_follows_a_change_of_permissions(shell: Any, platform: Any, admin_token: str,
                                                 tasks_api: str) -> None:
    name, user_id = platform.sign_up(PASSWORD)
    shell.sign_in(name, PASSWORD)
    assert _nav_has(shell, "Tasks")  # the `user` role's defaults include tasks.read
    _set_roles(platform, admin_token, user_id, [])
    _signed_out_then_in(shell, name)
    assert not _nav_has(shell, "Tasks") and not _nav_has(shell, "Assigned to me")
    shell.page.get_by_test_id("first-day").wait_for()  # nothing to do: what the platform offers
    shell.page.wait_for_timeout(600)
    shell.shot("nav-without-tasks")
    _set_roles(platform, admin_token, user_id, ["user"])
    _signed_out_then_in(shell, name)
    assert _nav_has(shell, "Tasks")


def test_an_admin_adds_a_record_rule_and_the_role_sees_the_team_s_tasks(
        admin: Any, shell: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    ann, _ = platform.sign_up(PASSWORD)
    bob, bob_id = platform.sign_up(PASSWORD)
    role, team = f"r{uuid.uuid4().hex[:6]}", f"team-{uuid.uuid4().hex[:6]}"
    with platform.api(admin_token) as client:
        assert client.post("/api/auth/roles", json={"name": role, "permissions": ["tasks.read"]}).status_code == 201
    _set_roles(platform, admin_token, bob_id, ["user", role])
    title = f"team work {uuid.uuid4().hex[:6]}"
    with platform.api(platform.login(ann, PASSWORD)) as client:
        assert client.post("/api/tasks/tasks", json={"title": title, "tags": [team]}).status_code == 201
    with platform.api(platform.login(bob, PASSWORD)) as client:
        assert title not in client.get("/api/tasks/tasks", params={"limit": 200}).text  # not his yet
    admin.open("/admin/record-rules")
    card = admin.page.get_by_test_id("record-rules-tasks")
    admin.choose(card.get_by_test_id("rule-role-tasks"), role)
    card.get_by_test_id("rule-field-tasks").fill("tags")
    card.get_by_test_id("rule-value-tasks").fill(team)
    card.get_by_test_id("rule-add-tasks").click()
    card.get_by_text(f"{role} may read: tags = {team}").wait_for()
    admin.shot("record-rules")
    shell.sign_in(bob, PASSWORD, "/m/tasks")
    shell.page.locator(".ag-row", has_text=title).wait_for()  # the rule covers it at once
