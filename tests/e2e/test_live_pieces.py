"""What others change reaches a person's open page (#17): a task someone else assigns to Bob moves
his sidebar's count at once, without the page being drawn again; a task he may not read tells his
page nothing (live push says only which module changed, and only to those who may read the record)."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect

PASSWORD = "live-pieces-pass-1234"
# every call of the one mechanism that reloads a module's pieces, in order
RECORD_CALLS = """() => { window.liveTestMark = 'first drawing'; window.piecesChanged = [];
  const reload = window.webosPiecesChanged;
  window.webosPiecesChanged = (module, except) => { window.piecesChanged.push(module); reload(module, except); }; }"""


def test_anothers_change_reloads_the_pieces_of_those_who_may_read_it(shell: Any, platform: Any, admin_token: str,
                                                                     tasks_api: str) -> None:
    tag = uuid.uuid4().hex[:6]
    bob = f"bob{tag}"
    with platform.api(admin_token) as client:  # Bob: tasks (every person) and the inventory's catalogue
        role = client.post("/api/auth/roles", json={"name": f"stock{tag}", "permissions": ["inventory.read"]})
        assert role.status_code == 201, role.text
        made = client.post("/api/auth/users", json={"email": f"{bob}@example.com", "username": bob,
                                                   "password": PASSWORD, "roles": ["user", f"stock{tag}"]})
        assert made.status_code == 201, made.text
    bob_id = made.json()["id"]
    shell.sign_in(bob, PASSWORD)
    counter = shell.page.frame_locator('[data-testid="module-frame"][data-module="tasks"][data-view="open_count"]'
                                       ).get_by_test_id("tasks-open-count")
    expect(counter).to_contain_text("0 open tasks")
    shell.page.evaluate(RECORD_CALLS)

    # the admin's own task, which Bob may not read; once it is in the event log it has passed the bus,
    # so the shell reads it before the catalogue item made next (one subscription, the server's order)
    private = platform.create_task(admin_token, f"Private {tag}")
    with platform.api(admin_token) as client:
        assert platform.until(lambda: client.get(f"/api/events/events/records/{private['id']}").status_code == 200,
                              timeout=60)
        item = client.post("/api/inventory/items", json={"sku": f"L-{tag}", "name": f"Bolt {tag}"})
        assert item.status_code == 201, item.text
    shell.page.wait_for_function("() => window.piecesChanged.includes('inventory')")
    assert "tasks" not in shell.page.evaluate("() => window.piecesChanged")  # not a word of the private task

    platform.create_task(admin_token, f"For Bob {tag}", assignees=[bob_id])
    expect(counter).to_contain_text("1 open task")  # assigned to him by someone else: his count follows
    assert shell.page.evaluate("() => [window.liveTestMark, window.piecesChanged.includes('tasks')]") == [
        "first drawing", True]  # the pieces were reloaded, not the page
