"""The admin panel's Sagas page on the whole platform: an order paid and fulfilled (its payment
saga completed) and an order whose card was declined (its saga compensated), each seen with its
steps; the compensated one retried from the page, after a confirmation, through the gateway."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]

ORDERS, SAGAS = "/api/orders/orders", "/api/orders/admin/sagas"


def _approver(platform: Any, token: str) -> str:
    """Someone other than the admin who may approve orders (the workflow's four eyes)."""
    name, password = f"ap{uuid.uuid4().hex[:8]}", "approver-pass-1234"
    with platform.api(token) as client:
        client.post("/api/auth/roles", json={"name": "order-approver", "permissions": ["orders.*"]})
        made = client.post("/api/auth/users", json={"email": f"{name}@example.com", "username": name,
                                                   "password": password, "roles": ["user", "order-approver"]})
    assert made.status_code == 201, made.text
    return platform.login(name, password)


def _order(platform: Any, token: str, approver: str, item: str, method: str) -> tuple[str, int]:
    """An approved order of `item`, then paid: (its id, the pay answer's status)."""
    with platform.api(token) as client, platform.api(approver) as other:
        made = client.post(ORDERS, json={"lines": [{"item_id": item, "quantity": 1}], "payment_method": method})
        assert made.status_code == 201, made.text
        id = made.json()["id"]
        assert client.post(f"{ORDERS}/{id}/transition", json={"action": "submit"}).status_code == 200
        approved = other.post(f"{ORDERS}/{id}/transition", json={"action": "approve"})
        assert approved.status_code == 200, approved.text
        return id, client.post(f"{ORDERS}/{id}/pay").status_code


def _run(platform: Any, token: str, order_id: str) -> dict[str, Any]:
    runs = platform.get_ok(token, SAGAS)["items"]
    found = [r for r in runs if r["id"].startswith(f"pay-{order_id}-")]
    assert len(found) == 1, runs
    return dict(found[0])


def _orders_ready(platform: Any, token: str) -> None:
    def answers() -> bool:
        with platform.api(token) as client:
            return client.get(SAGAS, params={"limit": 1}).status_code == 200 and client.get(
                "/api/inventory/items", params={"limit": 1}).status_code == 200
    assert platform.until(answers, timeout=60), "orders or inventory does not answer through the gateway"


def _grave(page: Any) -> list[str]:
    """The serious or critical axe violations on the page as it is now (as test_accessibility.py)."""
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]} {v['nodes'][0]['html'][:160]}"
            for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]


def _steps(admin: Any, run: dict[str, Any]) -> dict[str, str]:
    """Open the run's steps: {step: its state} as the dialog shows them, each step's start in the
    admin's own time zone (New York), never in UTC."""
    run_id = run["id"]
    row = admin.page.locator(f'[data-testid="saga-run"][data-run="{run_id}"]')
    row.get_by_test_id("saga-open").click()
    dialog = admin.page.locator(f'[data-testid="saga-dialog"][data-run="{run_id}"]')
    dialog.wait_for()
    steps = dialog.get_by_test_id("saga-step")
    expect(steps).to_have_count(2)
    found = {steps.nth(n).get_attribute("data-step") or "": steps.nth(n).get_attribute("data-state") or ""
             for n in range(2)}
    started = {step["name"]: step.get("started_at") for step in run["steps"]}
    for n, (name, state) in enumerate(found.items()):  # when each ran (and how long), or that it was not reached
        timing = steps.nth(n).get_by_test_id("saga-step-time")
        expect(timing).to_contain_text("not reached" if state == "not_run" else admin.local_time(started[name]))
        expect(timing).not_to_contain_text("UTC")
    return found


def test_an_admin_sees_a_fulfilled_and_a_compensated_order_saga_and_retries_one(
        admin_in_new_york: Any, platform: Any, admin_token: str) -> None:
    admin = admin_in_new_york  # times said in the admin's own zone
    _orders_ready(platform, admin_token)
    approver = _approver(platform, admin_token)
    with platform.api(admin_token) as client:
        made = client.post("/api/inventory/items", json={"sku": f"S-{uuid.uuid4().hex[:6]}", "name": "Saga bolt",
                                                         "price": 3.0, "on_hand": 5})
    assert made.status_code == 201, made.text
    item = made.json()["id"]
    ok, paid = _order(platform, admin_token, approver, item, "card")
    declined, refused = _order(platform, admin_token, approver, item, "declined")
    assert (paid, refused) == (200, 409)
    fulfilled = platform.until(lambda: platform.get_ok(admin_token, f"{ORDERS}/{ok}")["state"] == "fulfilled",
                               timeout=30)
    assert fulfilled, platform.get_ok(admin_token, f"{ORDERS}/{ok}")
    good, bad = _run(platform, admin_token, ok), _run(platform, admin_token, declined)

    admin.open("/admin/sagas")
    page = admin.page
    expect(page.locator(f'[data-testid="saga-run"][data-run="{good["id"]}"]')).to_have_attribute(
        "data-state", "completed")
    expect(page.locator(f'[data-testid="saga-run"][data-run="{bad["id"]}"]')).to_have_attribute(
        "data-state", "compensated")
    admin.shot("admin-sagas")
    assert _grave(page) == []  # the page as the project's axe check sees it (test_accessibility.py)

    assert _steps(admin, good) == {"charge": "done", "record": "done"}
    dialog = page.locator(f'[data-testid="saga-dialog"][data-run="{good["id"]}"]')
    expect(dialog.get_by_test_id("saga-retry")).to_have_count(0)  # nothing to do on a completed run
    dialog.get_by_test_id("saga-close").click()
    expect(dialog).to_be_hidden()

    assert _steps(admin, bad) == {"charge": "failed", "record": "not_run"}
    dialog = page.locator(f'[data-testid="saga-dialog"][data-run="{bad["id"]}"]')
    expect(dialog).to_contain_text("card declined")
    admin.shot("admin-saga-compensated")
    dialog.get_by_test_id("saga-retry").click()
    page.get_by_test_id("saga-confirm-no").click()  # cancelled: nothing happens
    assert platform.get_ok(admin_token, f"{SAGAS}/{bad['id']}")["attempt"] == 1
    dialog.get_by_test_id("saga-retry").click()
    page.get_by_test_id("saga-confirm-yes").click()
    expect(page.get_by_text("Retry: the run is compensated")).to_be_visible()  # the card is still declined
    after = platform.get_ok(admin_token, f"{SAGAS}/{bad['id']}")
    assert after["attempt"] == 2 and after["actions"][0]["action"] == "retry" and after["state"] == "compensated"

    page.get_by_test_id("saga-state-filter").click()
    page.locator(".q-menu .q-item").get_by_text("completed", exact=True).click()
    expect(page.locator(f'[data-testid="saga-run"][data-run="{bad["id"]}"]')).to_have_count(0)
    expect(page.locator(f'[data-testid="saga-run"][data-run="{good["id"]}"]')).to_have_count(1)
