"""An order's workflow in the browser, on the record page every collection gets: the actions its
read model offers the reader (`actions`) are buttons, each asked before it is taken. The buyer
submits, another person approves (the buyer is offered no approval: four eyes), the buyer pays,
and the payment saga and inventory's reservation take the order to fulfilled."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "buyer-pass-1234"


def _act(shell: Any, action: str, reason: str = "") -> None:
    shell.page.locator(f'[data-testid="record-action"][data-action="{action}"]').click()
    dialog = shell.page.get_by_test_id("action-dialog")
    if reason:
        dialog.get_by_test_id("action-reason").fill(reason)
    dialog.get_by_test_id("action-confirm").click()
    dialog.wait_for(state="hidden")


def test_an_order_is_submitted_approved_by_another_and_paid_on_its_record_page(
        shell: Any, admin: Any, platform: Any, admin_token: str) -> None:
    tag = uuid.uuid4().hex[:6]
    buyer = f"buyer{tag}"
    with platform.api(admin_token) as client:
        role = client.post("/api/auth/roles", json={"name": f"buyer{tag}",
                                                    "permissions": ["orders.read", "orders.write", "inventory.read"]})
        assert role.status_code == 201, role.text
        made = client.post("/api/auth/users", json={"email": f"{buyer}@example.com", "username": buyer,
                                                   "password": PASSWORD, "roles": ["user", f"buyer{tag}"]})
        assert made.status_code == 201, made.text
        item = client.post("/api/inventory/items", json={"sku": f"E-{tag}", "name": f"Widget {tag}", "price": 4.0,
                                                         "on_hand": 10})
        assert item.status_code == 201, item.text
    token = platform.login(buyer, PASSWORD)
    with platform.api(token) as client:
        order = client.post("/api/orders/orders", json={"lines": [{"item_id": item.json()["id"], "quantity": 3}]})
    assert order.status_code == 201, order.text
    page = f"/m/orders/orders/{order.json()['id']}"
    state = lambda: platform.get_ok(admin_token, f"/api/orders/orders/{order.json()['id']}")["state"]  # noqa: E731

    shell.sign_in(buyer, PASSWORD, page)
    actions = shell.page.get_by_test_id("record-action")
    expect(actions).to_have_count(2)  # submit, cancel: no edit of an order, no approval of one's own
    expect(shell.page.get_by_test_id("record-edit")).to_have_count(0)
    _act(shell, "submit", reason="for the workshop")
    assert platform.until(lambda: state() == "submitted"), state()
    expect(shell.page.locator('[data-testid="record-action"][data-action="cancel"]')).to_be_visible()
    expect(shell.page.locator('[data-testid="record-action"][data-action="approve"]')).to_have_count(0)

    admin.open(page)
    _act(admin, "approve")
    assert platform.until(lambda: state() == "approved"), state()
    expect(admin.page.locator('[data-testid="record-action"][data-action="approve"]')).to_have_count(0)
    lines = admin.page.locator('[data-field="lines"] table')  # an order's lines read as a table
    expect(lines).to_contain_text(f"E-{tag}")
    expect(admin.page.locator('[data-field="history"] table')).to_contain_text("for the workshop")
    admin.shot("order-approved")

    shell.open(page)
    _act(shell, "pay")  # charge (the saga), then inventory reserves the stock: fulfilled
    assert platform.until(lambda: state() == "fulfilled", timeout=30), state()
    with platform.api(admin_token) as client:
        assert client.get(f"/api/inventory/items/{item.json()['id']}").json()["reserved"] == 3
    shell.open(page)
    expect(actions).to_have_count(0)  # nothing left to do
    trail = shell.page.get_by_test_id("history-entry")  # its audit trail has every step, newest first
    expect(trail).to_have_count(5, timeout=15_000)
    for n, step in enumerate(("fulfilled", "paid", "approved", "submitted: “for the workshop”", "created it")):
        expect(trail.nth(n)).to_contain_text(step)
    expect(trail.nth(2)).to_contain_text("State: submitted → approved")
    history = platform.get_ok(admin_token, f"/api/orders/orders/{order.json()['id']}")["history"]
    assert [h["action"] for h in history] == ["submit", "approve", "pay", "fulfil"]
    assert history[0].get("reason") == "for the workshop"
