"""The shell in a real browser against the platform as `make up` starts it:
sign-in, the palette, AutoForm, the grid, bulk edit, the board, live
toasts, the module manager and the admin guard."""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]



def test_sign_in_returns_to_the_page_asked_for(shell: Any, platform: Any, admin_token: str) -> None:
    shell.goto("/m/tasks?status=todo")
    shell.page.wait_for_url(re.compile(r"/login\?next="))
    shell.shot("sign-in")
    shell.page.get_by_test_id("login-name").fill("admin")
    shell.page.get_by_test_id("login-password").fill("wrong password")
    shell.page.get_by_test_id("login-submit").click()
    shell.page.get_by_test_id("login-error").filter(has_text=re.compile(".+")).wait_for()
    shell.sign_in("admin", "changeme", "/")
    assert shell.page.get_by_test_id("welcome").inner_text() == "Welcome, admin"
    shell.shot("dashboard")
    for theme in ("dark", "light"):  # the person's choice, kept in their settings
        shell.page.get_by_test_id("user-menu").click()
        shell.page.get_by_text("Light / dark").click()
        shell.page.locator("body.body--dark" if theme == "dark" else "body.body--light").wait_for()
        assert platform.get_ok(admin_token, "/api/settings/me/shell")["values"]["theme"] == theme
        if theme == "dark":
            shell.shot("dashboard-dark")
    shell.goto("/logout")
    shell.page.wait_for_url(re.compile(r"/login"))
    expect(shell.page.get_by_test_id("login-notice")).to_have_text("You are signed out.")
    shell.goto("/admin")
    shell.page.wait_for_url(re.compile(r"/login\?next=%2Fadmin"))


def test_ctrl_k_finds_my_open_tasks(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    title = f"palette {uuid.uuid4().hex[:6]}"
    platform.create_task(admin_token, title)
    admin.open("/")
    admin.palette("my open")
    expect(admin.page.get_by_test_id("palette-item").first).to_contain_text("My open tasks")
    admin.shot("palette")
    admin.page.keyboard.press("Enter")
    admin.page.wait_for_url(re.compile(r"/m/tasks\?status=todo$"))
    admin.page.locator(".ag-row").first.wait_for()
    assert "status: todo" in admin.page.locator(".q-chip").first.inner_text()
    admin.palette(title)  # a record, found through the module's search endpoint (GET /api/tasks/search)
    admin.page.get_by_test_id("palette-item").filter(has_text=title).wait_for()
    admin.page.keyboard.press("ArrowDown")
    admin.page.keyboard.press("ArrowUp")
    records = admin.page.get_by_test_id("palette-item").all_inner_texts()
    assert any(title in text and "Records" in text for text in records), records


def test_create_a_task_through_the_autoform(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    title = f"form {uuid.uuid4().hex[:6]}"
    admin.open("/m/tasks")
    admin.page.get_by_test_id("explorer-new").click()
    dialog = admin.page.get_by_test_id("create-dialog")
    dialog.wait_for()
    title_field = dialog.locator(".q-field").filter(has=admin.page.locator('[data-field="title"]'))
    dialog.get_by_test_id("create-submit").click()  # empty: refused in the browser
    title_field.get_by_text("Required").wait_for()
    admin.page.locator('[data-field="title"]').fill("   ")  # passes here, refused by the server's 422
    dialog.get_by_test_id("create-submit").click()
    title_field.get_by_text(re.compile("at least 1 character")).wait_for()
    admin.shot("autoform-422")
    admin.page.locator('[data-field="title"]').fill(title)
    # the attachment (`format: fs-urn`) is picked from the person's files
    home = platform.get_ok(admin_token, "/api/storage/sources")["home"].rstrip("/")
    urn = f"{home}/brief-{title.split()[-1]}.txt"
    with platform.api(admin_token) as client:
        assert client.put("/api/storage/files/content", params={"urn": urn}, content=b"brief").status_code == 201
    dialog.locator('[data-testid="file-browse"][data-for="attachment"]').click()
    picker = admin.page.get_by_test_id("file-picker")
    picker.locator(f'[data-testid="picker-file"][data-name="brief-{title.split()[-1]}.txt"]').click()
    picker.wait_for(state="hidden")
    expect(admin.page.locator('input[data-field="attachment"]')).to_have_value(urn)
    dialog.get_by_test_id("create-submit").click()
    dialog.wait_for(state="hidden")
    admin.page.locator(".ag-row", has_text=title).wait_for()
    found = platform.get_ok(admin_token, f"/api/tasks/tasks?q={title}")["items"]
    assert [(t["title"], t["attachment"]) for t in found] == [(title, urn)]


def test_edit_a_task_in_the_grid(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    task = platform.create_task(admin_token, f"edit {tag}")
    admin.open(f"/m/tasks?q=edit%20{tag}")
    cell = admin.page.locator(".ag-row", has_text=f"edit {tag}").locator('[col-id="title"]')
    cell.dblclick()
    editor = admin.page.locator(".ag-cell-inline-editing input")
    editor.fill(f"edited {tag}")
    editor.press("Enter")
    title = lambda: platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["title"]  # noqa: E731
    assert platform.until(lambda: title() == f"edited {tag}"), title()
    admin.shot("grid-edit")


def test_two_pages_save_one_task_and_the_second_sees_the_conflict(
        admin: Any, second_admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    task = platform.create_task(admin_token, f"race {tag}")
    cells = []
    for shell in (admin, second_admin):
        shell.open(f"/m/tasks?q=race%20{tag}")
        cells.append(shell.page.locator(".ag-row", has_text=f"race {tag}").locator('[col-id="title"]'))
        cells[-1].wait_for()
    title = lambda: platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["title"]  # noqa: E731
    for shell, cell, text in ((admin, cells[0], f"first {tag}"), (second_admin, cells[1], f"second {tag}")):
        cell.dblclick()
        editor = shell.page.locator(".ag-cell-inline-editing input")
        editor.fill(text)
        editor.press("Enter")
        if shell is admin:
            assert platform.until(lambda: title() == f"first {tag}"), title()
    dialog = second_admin.page.get_by_test_id("conflict-dialog")
    dialog.wait_for()
    expect(dialog.get_by_test_id("conflict-who")).to_contain_text("changed this record at")
    assert title() == f"first {tag}"  # the second save wrote nothing
    dialog.get_by_test_id("conflict-review").click()
    expect(dialog.get_by_test_id("conflict-diff")).to_contain_text(f"first {tag}")
    second_admin.shot("grid-conflict")
    dialog.get_by_test_id("conflict-overwrite").click()
    assert platform.until(lambda: title() == f"second {tag}"), title()


def test_bulk_move_three_tasks(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    tasks = [platform.create_task(admin_token, f"bulk {tag} {n}") for n in range(3)]
    admin.open(f"/m/tasks?q=bulk%20{tag}")
    rows = admin.page.locator(".ag-center-cols-container .ag-row")
    platform.until(lambda: rows.count() == 3)
    assert rows.count() == 3
    for checkbox in admin.page.locator(".ag-pinned-left-cols-container .ag-row, .ag-center-cols-container .ag-row"
                                       ).locator("input[type=checkbox]").all()[:3]:
        checkbox.check()
    admin.page.get_by_test_id("bulk-edit").click()
    dialog = admin.page.get_by_test_id("bulk-dialog")
    dialog.wait_for()
    dialog.get_by_test_id("bulk-value").click()
    admin.page.get_by_role("option", name="Done", exact=True).click()
    dialog.get_by_test_id("bulk-preview").get_by_text("3 row(s) will change").wait_for()
    admin.shot("bulk-preview")
    dialog.get_by_test_id("bulk-apply").click()
    dialog.wait_for(state="hidden")
    states = lambda: {platform.get_ok(admin_token, f"/api/tasks/tasks/{t['id']}")["status"] for t in tasks}  # noqa: E731
    assert platform.until(lambda: states() == {"done"}), states()


BOARD_PASSWORD = "board-pass-1234"


def test_drag_a_card_on_the_board(shell_in_new_york: Any, platform: Any, tasks_api: str) -> None:
    # a person of their own: an admin's board holds every test's tasks, and a "To do" column
    # taller than the screen cannot be dragged from
    shell = shell_in_new_york
    name, _ = platform.sign_up(BOARD_PASSWORD)
    token = platform.login(name, BOARD_PASSWORD)
    shell.sign_in(name, BOARD_PASSWORD, "/")
    tag = uuid.uuid4().hex[:6]
    due = "2031-12-24T03:30:00Z"  # the evening of the 23rd in New York
    task = platform.create_task(token, f"board {tag}", due_date=due)
    shell.open("/m/tasks/board")
    # the tasks module's own component (webos_tasks/shell.py), rendered by its host in the shell's frame
    board = shell.page.frame_locator('[data-testid="module-frame"][data-module="tasks"][data-view="board"]')
    board.locator('[data-testid="kanban"][data-component="webos_tasks.shell"]').wait_for(timeout=45_000)
    card = board.locator('[data-testid="kanban-card"]', has_text=f"board {tag}")
    # its due date as the person reads it where they are (the shell's own way), not UTC's 24th
    expect(card).to_contain_text(f"due {shell.local_time(due)}")
    expect(card.get_by_test_id("kanban-due")).to_have_text(f"due {shell.local_time(due)}")
    expect(card.get_by_test_id("kanban-due")).to_have_attribute("data-overdue", "false")
    assert "Dec 23" in shell.local_time(due) and "UTC" not in card.inner_text()
    # NiceGUI holds events back until its socket's handshake and then sends each one when its own
    # 10 ms poll fires, so a drag made earlier can deliver `drop` before `dragstart`: drag once it is live
    frame = shell.page.locator('[data-testid="module-frame"][data-view="board"]').element_handle().content_frame()
    frame.wait_for_function("() => window.did_handshake === true")
    card.drag_to(board.locator('[data-testid="kanban-column"][data-column="in_progress"]'))
    status = lambda: platform.get_ok(token, f"/api/tasks/tasks/{task['id']}")["status"]  # noqa: E731
    assert platform.until(lambda: status() == "in_progress"), status()
    board.locator('[data-column="in_progress"] [data-testid="kanban-card"]', has_text=f"board {tag}").wait_for()
    shell.shot("kanban")
    counter = shell.page.frame_locator('[data-testid="module-frame"][data-view="open_count"]').get_by_test_id(
        "tasks-open-count")
    expect(counter).to_contain_text("1 open task")
    added = board.get_by_test_id("board-add")  # Quasar puts the attribute on the <input>
    added.fill(f"quick {tag}")
    added.press("Enter")  # created through the module's component, with the person's token
    board.locator('[data-column="todo"] [data-testid="kanban-card"]', has_text=f"quick {tag}").wait_for()
    expect(counter).to_contain_text("2 open tasks")  # the board's frame told the shell; the sidebar's was drawn again
    mine = platform.get_ok(token, f"/api/tasks/search?q=quick%20{tag}")["items"]
    assert [item["label"] for item in mine] == [f"quick {tag}"]
    # the module's sidebar piece (a `slot="sidebar"` component), on every page
    stats = platform.get_ok(token, "/api/tasks/tasks/stats")
    shell.open("/")
    sidebar = shell.page.frame_locator('[data-testid="module-frame"][data-module="tasks"][data-view="open_count"]')
    counter = sidebar.get_by_test_id("tasks-open-count")
    expect(counter).to_contain_text(f"{stats['todo'] + stats['in_progress']} open task")
    counter.click()  # navigates the whole shell, not the frame
    shell.page.wait_for_url(re.compile(r"/m/tasks\?status=todo$"))


def test_a_notification_arrives_as_a_toast(admin: Any, platform: Any, admin_token: str) -> None:
    me = platform.get_ok(admin_token, "/api/auth/me")
    admin.open("/")
    admin.page.wait_for_timeout(500)  # the page's live listener is registered
    title = f"Hello {uuid.uuid4().hex[:6]}"
    with platform.api(admin_token) as client:
        sent = client.post("/api/events/notifications", json={"user_id": me["id"], "title": title,
                                                             "message": "from the test", "level": "success"})
    assert sent.status_code == 201, sent.text
    admin.page.locator(".q-notification", has_text=title).wait_for()
    admin.page.get_by_test_id("bell-count").filter(has_text=re.compile(r"[1-9]")).wait_for()
    admin.shot("toast")
    admin.page.get_by_test_id("bell").click()
    admin.page.get_by_test_id("notification-list").get_by_text(title).wait_for()
    unread = platform.get_ok(admin_token, "/api/events/notifications/unread-count")["unread"]
    expect(admin.page.get_by_test_id("bell-count")).to_have_text(str(unread))
    admin.page.get_by_role("button", name="Mark read").first.click()  # the badge follows at once, not at the poll
    if unread > 1:
        expect(admin.page.get_by_test_id("bell-count")).to_have_text(str(unread - 1), timeout=3000)
    else:
        expect(admin.page.get_by_test_id("bell-count")).to_be_hidden(timeout=3000)


def test_after_the_pages_socket_drops_and_reconnects_notifications_still_toast(
        admin: Any, platform: Any, admin_token: str) -> None:
    """A network blip (the socket closed under the page; socket.io reconnects to the same page)
    does not end the page's live feed: the bell still toasts. Its listener ended at the first
    disconnect before (NiceGUI 3 calls `on_disconnect` on a reconnect too; `on_delete` only when
    the page is gone)."""
    me = platform.get_ok(admin_token, "/api/auth/me")
    admin.open("/")
    admin.page.wait_for_timeout(500)  # the page's live listener is registered
    admin.page.evaluate("window.beforeBlip = true; window.did_handshake = false; window.socket.io.engine.close()")
    admin.page.wait_for_function("window.did_handshake === true", timeout=20_000)
    assert admin.page.evaluate("window.beforeBlip === true"), "the page was loaded again, not reconnected"
    title = f"After the blip {uuid.uuid4().hex[:6]}"
    with platform.api(admin_token) as client:
        sent = client.post("/api/events/notifications", json={"user_id": me["id"], "title": title,
                                                             "message": "from the test", "level": "info"})
    assert sent.status_code == 201, sent.text
    admin.page.locator(".q-notification", has_text=title).wait_for(timeout=15_000)


def _publish(platform: Any, subject: str, data: bytes, headers: dict[str, str] | None = None,
             principal: str = "operator") -> None:
    """One message on the platform's NATS (from a thread: Playwright's sync API owns this one's loop)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import nats

    from webos_common.bus.connection import connect_options

    async def publish() -> None:  # as a principal of the stack: every connection needs a credential
        nc = await nats.connect(platform.nats_url, **connect_options(
            name="e2e", credential_file=platform.state_dir / "credentials" / f"{principal}.nk", principal=principal,
            ca_file=platform.nats_ca))
        await nc.publish(subject, data, headers=headers)
        await nc.drain()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish()).result(timeout=10)


def _task_reporter(platform: Any, person_token: str) -> tuple[str, str]:
    """(principal, bus token) of a worker credential issued on the running stack by `webos creds`,
    and a bus token auth exchanged for it from the person's own token: what a real worker holds."""
    import asyncio
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from webos_common.bus.identity import AUDIENCE
    from webos_common.security.principals import read_seed
    from webos_common.security.service_auth import ServiceCredentials

    name = f"e2e{uuid.uuid4().hex[:6]}-worker"
    issued = subprocess.run([sys.executable, "-m", "webos_cli.main", "creds", "issue", name, "--kind", "worker",
                             "--state-dir", str(platform.state_dir), "--base-port", str(platform.base_port)],
                            capture_output=True, text=True, timeout=60)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    seed = read_seed(platform.state_dir / "credentials" / f"{name}.nk")

    async def exchange() -> str:
        credentials = ServiceCredentials(name, seed, f"{platform.url}/api/auth")
        try:
            return await credentials.exchange(person_token, AUDIENCE)
        finally:
            await credentials.aclose()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        return name, pool.submit(asyncio.run, exchange()).result(timeout=30)


def test_task_progress_moves_live(admin: Any, platform: Any, admin_token: str) -> None:
    """Task events reach the person their identity token proves, from a worker's credential."""
    from webos_common.bus.envelope import EventEnvelope
    from webos_common.bus.identity import HEADER
    from webos_common.bus.topics import event_subject
    from webos_common.bus.wire import MSG_ID

    me = platform.get_ok(admin_token, "/api/auth/me")
    worker, bus_token = _task_reporter(platform, admin_token)
    task_id = uuid.uuid4().hex
    admin.open("/")
    admin.page.get_by_test_id("task-progress").wait_for()
    admin.page.wait_for_timeout(500)  # the page's live listener is registered

    def report(topic: str, token: str | None = bus_token, task: str = task_id, **state: Any) -> None:
        envelope = EventEnvelope(topic=topic, source=worker, user_id=me["id"],
                                 payload={"task_id": task, "name": "export report", "user_id": me["id"], **state})
        headers = {MSG_ID: envelope.id, **({HEADER: token} if token else {})}
        _publish(platform, event_subject(topic, worker), envelope.to_json(), headers, principal=worker)

    forged = uuid.uuid4().hex
    report("task:status", token=None, task=forged, state="running", percent=0)  # proves nobody: dropped
    report("task:status", state="running", percent=0)
    report("task:progress", state="running", percent=40, message="halfway there")
    row = admin.page.get_by_test_id(f"task-{task_id}")
    row.get_by_text("halfway there").wait_for()
    assert admin.page.get_by_test_id(f"task-{forged}").count() == 0  # sent first, on the same subject

    report("task:status", state="running", percent=0)
    report("task:progress", state="running", percent=40, message="halfway there")
    row = admin.page.get_by_test_id(f"task-{task_id}")
    row.get_by_text("halfway there").wait_for()
    assert row.locator(".q-linear-progress").count() == 1 and row.locator("button").count() == 1  # cancel
    admin.shot("task-progress")
    report("task:status", state="failed", percent=40, error="disk full")
    row.get_by_text("disk full").wait_for()
    assert row.locator("button").count() == 0


def test_a_non_admin_typing_an_admin_url_is_refused(shell: Any, platform: Any, member: tuple[str, str]) -> None:
    shell.sign_in(*member, "/admin/modules")
    shell.page.get_by_test_id("refused").wait_for()
    assert shell.page.get_by_test_id("module-manager").count() == 0
    assert shell.page.get_by_test_id("nav").get_by_text("Admin").count() == 0
    shell.shot("refused")
    shell.palette("module manager")  # an admin gets the page; a member, nothing
    shell.page.get_by_text("Nothing matches").wait_for()


def test_an_admin_disables_the_module_and_it_leaves_the_navigation(admin: Any, platform: Any,
                                                                     tasks_api: str) -> None:
    admin.open("/admin/modules")
    nav = admin.page.get_by_test_id("nav")
    nav.get_by_text("Tasks", exact=True).wait_for()
    switch = admin.page.get_by_test_id("enable-tasks")
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_contain_text("Enabled")
    switch.click()
    try:
        expect(switch).to_contain_text("Disabled")  # the label says the state it shows
        nav.get_by_text("Tasks", exact=True).wait_for(state="detached")
        admin.shot("module-disabled")
        admin.goto("/m/tasks")
        admin.page.get_by_test_id("module-missing").wait_for()
    finally:
        admin.open("/admin/modules")
        switch = admin.page.get_by_test_id("enable-tasks")
        expect(switch).to_have_attribute("aria-checked", "false")
        switch.click()
        expect(switch).to_have_attribute("aria-checked", "true")
    admin.page.get_by_test_id("nav").get_by_text("Tasks", exact=True).wait_for()
    admin.shot("module-manager")


def test_the_admin_panel_pages(admin: Any, platform: Any) -> None:
    import json


    admin.open("/admin")
    admin.page.locator(".js-plotly-plot .main-svg").first.wait_for()
    backgrounds = admin.page.locator(".js-plotly-plot .main-svg").first.evaluate("svg => svg.style.background")
    assert backgrounds in ("rgba(0, 0, 0, 0)", "transparent"), backgrounds  # the page's theme shows through
    admin.page.get_by_text("5xx share (since gateway start)").wait_for()
    admin.page.locator(".js-plotly-plot", has_text="Gateway requests by status").wait_for()
    admin.open("/admin")  # a second sample of the gateway's counters gives rates
    admin.page.get_by_text(re.compile(r"\d req/s")).wait_for()
    admin.shot("admin-dashboard")
    admin.goto("/admin/users")
    admin.page.get_by_test_id("users-grid").locator(".ag-row", has_text="admin@example.com").wait_for()
    admin.goto("/admin/settings")
    admin.page.get_by_test_id("settings-smtp").click()
    password = admin.page.locator('[data-field="password"]')
    password.wait_for()
    assert password.get_attribute("type") == "password"
    admin.shot("admin-settings")
    admin.goto("/admin/logs")
    admin.page.get_by_test_id("log-view").wait_for()
    admin.page.wait_for_timeout(500)  # subscribed
    line = f"e2e log line {uuid.uuid4().hex[:6]}"

    record = {"level": "WARNING", "message": line, "service": "e2e", "time": "2026-01-01T12:00:00+00:00"}
    _publish(platform, "webos.logs.e2e", json.dumps(record).encode())
    view = admin.page.get_by_test_id("log-view")
    view.get_by_text(line).wait_for()
    admin.page.get_by_test_id("log-pause").click()  # paused: held, shown on resume
    held = f"held while paused {uuid.uuid4().hex[:6]}"
    _publish(platform, "webos.logs.e2e", json.dumps({**record, "message": held}).encode())
    admin.page.wait_for_timeout(700)
    assert view.get_by_text(held).count() == 0
    admin.page.get_by_test_id("log-pause").click()
    view.get_by_text(held).wait_for()
    admin.page.get_by_test_id("log-search").fill("needle")  # only lines with the text from now on
    admin.page.wait_for_timeout(300)
    for message in ("hay 1", "a needle here"):
        _publish(platform, "webos.logs.e2e", json.dumps({**record, "message": message}).encode())
    view.get_by_text("a needle here").wait_for()
    assert view.get_by_text("hay 1").count() == 0
    expect(view.get_by_text(line)).to_have_count(1)  # each line once
    admin.shot("admin-logs")
    admin.goto("/admin/events")
    admin.page.get_by_text("Dead letters", exact=True).wait_for()


def test_trash_restore_and_csv_export(admin: Any, platform: Any, admin_token: str, tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    task = platform.create_task(admin_token, f"trash {tag}")
    admin.open(f"/m/tasks?q=trash%20{tag}")
    grid = admin.page.get_by_test_id("explorer-grid")
    admin.page.get_by_test_id("explorer-export").click()
    with admin.page.expect_download() as download:
        admin.page.get_by_test_id("explorer-export-csv").click()
    assert f"trash {tag}" in download.value.path().read_text(encoding="utf-8-sig")
    grid.locator(".ag-row", has_text=f"trash {tag}").locator("input[type=checkbox]").check()
    admin.page.get_by_test_id("explorer-delete").click()
    grid.locator(".ag-row", has_text=f"trash {tag}").wait_for(state="detached")
    with platform.api(admin_token) as client:
        assert client.get(f"/api/tasks/tasks/{task['id']}").status_code == 404
    admin.page.get_by_test_id("trash").click()
    grid.locator(".ag-row", has_text=f"trash {tag}").locator("input[type=checkbox]").check()
    admin.page.get_by_test_id("explorer-delete").filter(has_text="Restore").click()
    grid.locator(".ag-row", has_text=f"trash {tag}").wait_for(state="detached")
    assert platform.get_ok(admin_token, f"/api/tasks/tasks/{task['id']}")["title"] == f"trash {tag}"


def test_brand_from_the_shell_settings(admin: Any, platform: Any, admin_token: str) -> None:
    def brand(**values: Any) -> None:
        with platform.api(admin_token) as client:
            answer = client.patch("/api/settings/modules/shell", json=values)
        assert answer.status_code == 200, answer.text

    admin.open("/")
    brand(brand_name="Acme Ops", primary_color="#0f766e")
    try:
        header = admin.page.locator(".q-header")
        for _ in range(20):  # settings:changed drops the shell's cached brand
            admin.open("/")
            if header.get_by_text("Acme Ops").count():
                break
            admin.page.wait_for_timeout(300)
        header.get_by_text("Acme Ops").wait_for()
        assert "15, 118, 110" in header.evaluate("e => getComputedStyle(e).backgroundColor")
        admin.shot("branding")
    finally:
        brand(brand_name="WebOS", primary_color="#4f46e5")


def test_settings_history_shows_what_changed_and_rolls_back(admin: Any, platform: Any, admin_token: str,
                                                           tasks_api: str) -> None:
    path = "/api/settings/modules/tasks"

    def put(view: str) -> int:
        with platform.api(admin_token) as client:
            answer = client.patch(path, json={"default_view": view})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["version"])

    listed = put("list")
    put("board")
    try:
        admin.open("/m/tasks")  # the module's default view takes effect
        admin.page.wait_for_url(re.compile(r"/m/tasks/board$"))
        admin.page.get_by_role("button", name="Table").click()  # the table is still one click away
        admin.page.wait_for_url(re.compile(r"/m/tasks/table$"))
        admin.page.get_by_test_id("explorer-page").wait_for()
        with platform.api(admin_token) as client:  # a person's own choice wins over the module's
            assert client.patch("/api/settings/me/tasks", json={"default_view": "list"}).status_code == 200
        admin.open("/m/tasks")
        admin.page.get_by_test_id("explorer-page").wait_for()
        assert admin.page.url.endswith("/m/tasks"), admin.page.url
        admin.open("/admin/settings")
        admin.page.get_by_test_id("settings-tasks").click()
        admin.page.get_by_test_id("history-tasks").click()
        dialog = admin.page.get_by_test_id("history-dialog")
        newest = dialog.get_by_test_id("history-entry").first
        expect(newest).to_contain_text("default_view: list → board")
        older = dialog.locator(f'[data-testid="history-entry"][data-version="{listed}"]')
        expect(older).to_contain_text(re.compile(r"default_view: \S+ → list"))  # "—" when the default was in force
        admin.shot("settings-history")
        older.get_by_test_id("history-rollback").click()
        with admin.page.expect_navigation():  # the page reloads: let it, before the page is closed
            admin.page.get_by_test_id("history-rollback-confirm").click()
        for _ in range(50):  # the page reloads with the values in force
            if platform.get_ok(admin_token, path)["values"]["default_view"] == "list":
                break
            admin.page.wait_for_timeout(200)
        assert platform.get_ok(admin_token, path)["values"]["default_view"] == "list"
        history = platform.get_ok(admin_token, f"{path}/history")["items"]
        assert history[0]["action"] == f"rollback:{listed}", history[0]
    finally:
        put("list")
        with platform.api(admin_token) as client:
            client.put("/api/settings/me/tasks", json={})


def test_a_setting_out_of_range_is_refused_at_its_field_not_clamped(admin: Any, platform: Any, admin_token: str,
                                                                   tasks_api: str) -> None:
    before = platform.get_ok(admin_token, "/api/settings/modules/tasks")["version"]
    admin.open("/admin/settings")
    admin.page.get_by_test_id("settings-tasks").click()
    field = admin.page.locator('[data-field="widget_limit"]')  # Quasar puts the attribute on the <input>
    field.fill("50")  # the schema allows 1-20
    field.press("Tab")
    expect(field).to_have_value("50")  # not quietly made 20
    # by the keyboard: a click goes to coordinates, and at the foot of the opened section it sometimes
    # landed on another control while the page still moved (the screenshot of a failure: a switch focused)
    admin.page.get_by_test_id("save-tasks").press("Enter")
    expect(admin.page.locator(".q-field", has=field)).to_contain_text("20")  # the rule, at the field
    assert platform.get_ok(admin_token, "/api/settings/modules/tasks")["version"] == before  # nothing saved


def test_a_module_admin_page_in_the_admin_panel(admin: Any, platform: Any, admin_token: str,
                                                tasks_api: str) -> None:
    """The tasks module's `AdminPage` is a tab of the admin panel; `/admin/m/tasks`
    shows its admin API (`GET /api/tasks/admin/stats`) as a key/value table."""
    platform.create_task(admin_token, f"admin stats {uuid.uuid4().hex[:6]}")
    stats = platform.get_ok(admin_token, "/api/tasks/admin/stats")
    admin.open("/admin")
    admin.page.get_by_test_id("admin-tabs").get_by_text("Tasks overview").click()
    admin.page.wait_for_url(re.compile(r"/admin/m/tasks$"))
    expect(admin.page.get_by_test_id("page-title")).to_have_text("Tasks overview")
    card = admin.page.get_by_test_id("admin-api-stats")
    for key, label in (("todo", "Todo"), ("in_progress", "In progress"), ("done", "Done")):  # in words
        row = card.locator("tbody tr").filter(has=admin.page.locator("td", has_text=re.compile(rf"^{label}$")))
        expect(row.locator("td").nth(1)).to_have_text(str(stats[key]))
    assert stats["todo"] >= 1
    admin.shot("admin-module-page")
    admin.open("/admin/m/nosuchmodule")
    admin.page.get_by_test_id("module-missing").wait_for()


def test_an_expired_access_token_is_refreshed_silently(admin: Any, admin_state: dict[str, Any]) -> None:
    """Runs last: the shared admin session's first access token has expired by now
    (the platform runs with short-lived access tokens); pages and API calls go on."""
    if os.environ.get("WEBOS_E2E_URL"):
        pytest.skip("needs the suite's own platform, started with 30 s access tokens")
    expired_at = admin_state["signed_in_at"] + admin_state["access_ttl"] + 6  # + the verifiers' leeway
    admin.page.wait_for_timeout(max(0.0, expired_at - time.monotonic()) * 1000)
    admin.open("/m/tasks")
    assert "/login" not in admin.page.url
    admin.page.get_by_test_id("explorer-page").filter(has_text="rows").wait_for()
