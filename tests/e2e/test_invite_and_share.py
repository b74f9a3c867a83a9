"""People in the browser, continued: an admin invites a person by e-mail with a role, the
person opens the mailed link in their own browser, registers and is signed in with the
role's nav; a task's owner shares it from the grid with a colleague (read: the colleague
sees it and is refused an edit; revoked: gone at the next load) and with a role (write:
its holder edits it); a person with no access asks for it on the first-day page and an
admin approves the request with a role (or denies another)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

PASSWORD = "invited-pass-1234"




def _role(platform: Any, token: str, permissions: list[str]) -> str:
    name = f"r{uuid.uuid4().hex[:6]}"
    with platform.api(token) as client:
        made = client.post("/api/auth/roles", json={"name": name, "permissions": permissions})
    assert made.status_code == 201, made.text
    return name


def _invitation_link(platform: Any, admin_token: str, email: str) -> str:
    def mail() -> list[dict[str, Any]]:
        with platform.api(admin_token) as client:
            answer = client.get("/api/auth/dev/mail", params={"to": email})
        assert answer.status_code == 200, answer.text
        return [m for m in answer.json() if m["kind"] == "invite"]

    found = platform.until(mail)
    assert len(found) == 1, found
    link = re.search(r"https?://\S+/register\?invite=\S+", found[0]["body"])
    assert link, found[0]["body"]
    return link.group(0)


def _nav_has(shell: Any, label: str) -> bool:
    nav = shell.page.get_by_test_id("nav")
    nav.wait_for()
    return nav.get_by_text(label, exact=True).count() > 0


def test_an_invited_person_registers_and_has_the_role(admin: Any, shell: Any, platform: Any,
                                                      admin_token: str, tasks_api: str) -> None:
    role = _role(platform, admin_token, ["tasks.read"])
    name = f"i{uuid.uuid4().hex[:8]}"
    email = f"{name}@example.com"
    admin.open("/admin/users")
    card = admin.page.get_by_test_id("invite-card")
    card.get_by_test_id("invite-email").fill(email)
    admin.choose(card.get_by_test_id("invite-roles"), "user")  # taken off: only the new role
    admin.choose(card.get_by_test_id("invite-roles"), role)
    card.get_by_text("Invite by e-mail").click()  # away from the menu: it closes
    expect(admin.page.locator(".q-menu")).to_be_hidden()
    admin.shot("invite")
    card.get_by_test_id("invite-send").click()
    admin.page.locator(".q-notification", has_text="Invitation sent").wait_for()

    link = _invitation_link(platform, admin_token, email)
    assert link.startswith(platform.url + "/register?invite=")  # the shell's page, at the public address
    shell.page.goto(link)
    shell.page.get_by_test_id("register-email").fill(email)
    shell.page.get_by_test_id("register-username").fill(name)
    shell.page.get_by_test_id("register-password").fill(PASSWORD)
    shell.page.get_by_test_id("register-submit").click()
    shell.page.get_by_test_id("page-title").wait_for()  # signed in at once: the invitation vouched
    assert _nav_has(shell, "Tasks")  # what the role gives
    shell.shot("invited-first-sign-in")
    with platform.api(platform.login(name, PASSWORD)) as client:
        me = client.get("/api/auth/me").json()
    assert me["roles"] == [role]
    with platform.api(admin_token) as client:
        again = client.post("/api/auth/register", json={"email": email, "username": f"x{name}",
                                                        "password": PASSWORD, "invite": link.rsplit("=", 1)[1]})
    assert again.status_code == 400 and again.json()["error"]["details"]["field"] == "invite"  # used up


def _task_row(shell: Any, title: str) -> Any:
    return shell.page.locator(".ag-center-cols-container .ag-row", has_text=title)


def _pick(shell: Any, testid: str, option: str) -> None:
    dialog = shell.page.get_by_test_id("share-dialog")
    shell.choose(dialog.get_by_test_id(testid), option)  # the person picker searches the directory as one types
    dialog.get_by_text("Share and assign").click()  # away from the menu: it closes (Escape might shut the dialog)
    expect(shell.page.locator(".q-menu")).to_be_hidden()


def _share_dialog(shell: Any, task_id: str) -> Any:
    shell.page.locator(f'.ag-row[row-id="{task_id}"] input[type=checkbox]').first.check()
    shell.page.get_by_test_id("explorer-share").click()
    dialog = shell.page.get_by_test_id("share-dialog")
    dialog.wait_for()
    return dialog


def _save_shares(shell: Any) -> None:
    dialog = shell.page.get_by_test_id("share-dialog")
    dialog.get_by_test_id("share-save").click()
    dialog.wait_for(state="hidden")


def _edit_title(shell: Any, title: str, new: str) -> None:
    _task_row(shell, title).locator('[col-id="title"]').dblclick()
    editor = shell.page.locator(".ag-cell-inline-editing input")
    editor.fill(new)
    editor.press("Enter")


def _shares(platform: Any, token: str, task_id: str) -> list[dict[str, str]]:
    with platform.api(token) as client:
        return list(client.get(f"/api/tasks/tasks/{task_id}").json()["shares"])


def test_an_owner_shares_a_task_for_read_revokes_it_and_shares_it_with_a_role_for_write(
        shell: Any, other: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    ann, _ = platform.sign_up(PASSWORD)
    bob, bob_id = platform.sign_up(PASSWORD)
    role = _role(platform, admin_token, ["tasks.read"])
    with platform.api(admin_token) as client:
        assert client.patch(f"/api/auth/users/{bob_id}", json={"roles": ["user", role]}).status_code == 200
    title = f"budget {uuid.uuid4().hex[:6]}"
    ann_token = platform.login(ann, PASSWORD)
    with platform.api(ann_token) as client:
        task = client.post("/api/tasks/tasks", json={"title": title}).json()
    other.sign_in(bob, PASSWORD, "/m/tasks")
    other.page.get_by_test_id("explorer-page").filter(has_text="0 rows").wait_for()  # not his yet

    shell.sign_in(ann, PASSWORD, f"/m/tasks?q={title.replace(' ', '%20')}")
    _task_row(shell, title).wait_for()
    _share_dialog(shell, task["id"])
    _pick(shell, "share-readers", bob)
    shell.shot("share-dialog")
    _save_shares(shell)
    assert _shares(platform, ann_token, task["id"]) == [{"kind": "user", "id": bob_id, "access": "read"}]

    other.page.reload()
    _task_row(other, title).wait_for()  # shared with him: in his list
    _edit_title(other, title, "mine now")
    other.page.locator(".q-notification", has_text="you may read this record but not change it").wait_for()
    expect(_task_row(other, title)).to_be_visible()  # the grid shows the title as saved
    other.shot("shared-read-only")
    with platform.api(ann_token) as client:
        assert client.get(f"/api/tasks/tasks/{task['id']}").json()["title"] == title

    _share_dialog(shell, task["id"])
    _pick(shell, "share-readers", bob)  # chosen again: taken off
    _save_shares(shell)
    assert _shares(platform, ann_token, task["id"]) == []
    other.page.reload()
    other.page.get_by_test_id("explorer-page").filter(has_text="0 rows").wait_for()  # revoked: gone at once
    expect(_task_row(other, title)).to_have_count(0)

    _share_dialog(shell, task["id"])
    _pick(shell, "share-role-writers", role)
    _save_shares(shell)
    assert _shares(platform, ann_token, task["id"]) == [{"kind": "role", "id": role, "access": "write"}]
    other.page.reload()
    _edit_title(other, title, f"{title} approved")
    with platform.api(ann_token) as client:
        saved = lambda: client.get(f"/api/tasks/tasks/{task['id']}").json()["title"]  # noqa: E731
        assert platform.until(lambda: saved() == f"{title} approved"), saved()


def _ask_for_access(shell: Any, platform: Any, admin_token: str, message: str) -> tuple[str, str]:
    """A person with no roles (nothing in their nav) asks on the first-day page."""
    name, user_id = platform.sign_up(PASSWORD)
    with platform.api(admin_token) as client:
        assert client.patch(f"/api/auth/users/{user_id}", json={"roles": []}).status_code == 200
    shell.sign_in(name, PASSWORD)
    shell.page.get_by_test_id("first-day").wait_for()
    shell.page.get_by_test_id("access-message").fill(message)
    shell.page.get_by_test_id("access-request").click()
    shell.page.locator(".q-notification", has_text="went to the administrators").wait_for()
    return name, user_id


def test_an_admin_approves_an_access_request_with_a_role_and_denies_another(
        admin: Any, shell: Any, other: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    role = _role(platform, admin_token, ["tasks.read"])
    ann, _ = _ask_for_access(shell, platform, admin_token, "I keep the team's task list")
    bob, bob_id = _ask_for_access(other, platform, admin_token, "just looking")
    admin.open("/admin/users")
    request = admin.page.get_by_test_id(f"request-{ann}")
    expect(request).to_contain_text("I keep the team's task list")
    admin.choose(request.get_by_test_id(f"request-roles-{ann}"), role)
    request.get_by_text("I keep the team's task list").click()  # away from the menu: it closes
    expect(admin.page.locator(".q-menu")).to_be_hidden()
    admin.shot("access-requests")
    request.get_by_test_id(f"request-approve-{ann}").click()
    expect(request).to_have_count(0)
    admin.page.get_by_test_id(f"request-deny-{bob}").click()
    expect(admin.page.get_by_test_id(f"request-{bob}")).to_have_count(0)

    shell.goto("/")  # the approval changed ann's roles: signed out, with the reason
    expect(shell.page.get_by_test_id("login-reason")).to_contain_text("changed your roles")
    shell.sign_in(ann, PASSWORD)
    assert _nav_has(shell, "Tasks")
    with platform.api(admin_token) as client:
        assert client.get(f"/api/auth/users/{bob_id}").json()["roles"] == []  # denied: nothing granted
        left = [r["username"] for r in client.get("/api/auth/access-requests").json()["items"]]
    assert ann not in left and bob not in left
