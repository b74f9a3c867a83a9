"""The payment saga's runs through the module host's generic saga API (`/api/orders/admin/sagas`,
served because orders declares the saga with `webos_register_sagas`), on a real module host:
the runs with their states and steps, admin only, and an admin's retry and compensate."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bson import ObjectId

API, SAGAS = "/api/orders/orders", "/api/orders/admin/sagas"


async def stock(app: Any, *, price: float) -> str:
    """An inventory item, written where the inventory module keeps them (orders only reads it)."""
    from datetime import UTC, datetime

    now, oid = datetime.now(UTC), ObjectId()
    await app.state.resources.db["inventory_items"].insert_one({
        "_id": oid, "sku": "S-1", "name": "S-1", "unit": "pcs", "price": price, "reorder_level": 0,
        "on_hand": 10, "reserved": 0, "created_at": now, "updated_at": now, "deleted_at": None})
    return str(oid)


async def approved(client: httpx.AsyncClient, ann: dict[str, str], carol: dict[str, str],
                   lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    made = await client.post(API, json={"lines": lines, **fields}, headers=ann)
    assert made.status_code == 201, made.text
    id = made.json()["id"]
    assert (await client.post(f"{API}/{id}/transition", json={"action": "submit"}, headers=ann)).status_code == 200
    resp = await client.post(f"{API}/{id}/transition", json={"action": "approve"}, headers=carol)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


@pytest.fixture
def dan(issuer: Any) -> dict[str, str]:
    """Administers orders, and nothing else of the platform."""
    return issuer.headers("dan", permissions=("orders.admin",))


async def paid(client: httpx.AsyncClient, app: Any, ann: dict[str, str], carol: dict[str, str],
               method: str = "card") -> tuple[dict[str, Any], httpx.Response]:
    made = await approved(client, ann, carol, [{"item_id": await stock(app, price=4.0), "quantity": 2}],
                          payment_method=method)
    return made, await client.post(f"{API}/{made['id']}/pay", headers=ann)


async def run_of(client: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    runs = (await client.get(SAGAS, headers=headers)).json()["items"]
    found = [r for r in runs if r["id"].startswith(f"pay-{order_id}-")]
    assert len(found) == 1, runs
    resp = await client.get(f"{SAGAS}/{found[0]['id']}", headers=headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_admins_see_each_run_with_its_state_and_steps(client: httpx.AsyncClient, app: Any, admin: Any,
                                                            dan: Any, ann: Any, carol: Any) -> None:
    assert app.state.manifest.sagas == ["order_payment"]
    ok, resp = await paid(client, app, ann, carol)
    assert resp.status_code == 200
    declined, resp = await paid(client, app, ann, carol, method="declined")
    assert resp.status_code == 409

    page = (await client.get(SAGAS, headers=admin)).json()
    assert [r["state"] for r in page["items"]] == ["compensated", "completed"]  # newest first
    assert page["total"] == 2 and not page["has_more"]

    good = await run_of(client, admin, ok["id"])
    payment_id = (await client.get(f"{API}/{ok['id']}", headers=ann)).json()["payment_id"]
    assert (good["saga"], good["state"], good["started_by"], good["attempt"]) == ("order_payment", "completed",
                                                                                  "ann", 1)
    assert good["data"] == {"order_id": ok["id"], "amount": 8.0, "method": "card"}
    assert [(s["name"], s["state"]) for s in good["steps"]] == [("charge", "done"), ("record", "done")]
    charge, record = good["steps"]
    assert charge["result"] == payment_id and charge["compensable"] and not record["compensable"]
    assert charge["started_at"] <= charge["finished_at"] <= record["started_at"] <= record["finished_at"]
    assert charge["duration_ms"] >= 0 and charge["error"] is None and good["actions_allowed"] == []

    bad = await run_of(client, admin, declined["id"])
    assert (bad["state"], bad["failed_step"]) == ("compensated", "charge") and "card declined" in bad["error"]
    assert [(s["name"], s["state"]) for s in bad["steps"]] == [("charge", "failed"), ("record", "not_run")]
    assert "PaymentDeclined: card declined" == bad["steps"][0]["error"] and bad["steps"][1]["started_at"] is None
    assert bad["actions_allowed"] == ["retry"] and bad["retryable"]

    only = (await client.get(SAGAS, params={"state": "completed"}, headers=dan)).json()["items"]
    assert [r["id"] for r in only] == [good["id"]]  # an orders admin who is no platform admin may look too
    assert (await client.get(SAGAS, params={"saga": "other"}, headers=admin)).json()["items"] == []
    first = (await client.get(SAGAS, params={"limit": 1}, headers=admin)).json()
    rest = (await client.get(SAGAS, params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin)).json()
    assert first["has_more"] and [r["id"] for r in first["items"] + rest["items"]] == [bad["id"], good["id"]]
    assert (await client.get(SAGAS, params={"state": "nonsense"}, headers=admin)).status_code == 422
    assert (await client.get(f"{SAGAS}/pay-nothing", headers=admin)).status_code == 404


async def test_people_who_do_not_administer_orders_are_refused(client: httpx.AsyncClient, app: Any,
                                                                ann: Any, carol: Any) -> None:
    await paid(client, app, ann, carol, method="declined")
    run_id = (await app.state.resources.db["orders_sagas"].find_one({}))["_id"]
    for method, path in (("GET", SAGAS), ("GET", f"{SAGAS}/{run_id}"), ("POST", f"{SAGAS}/{run_id}/retry"),
                         ("POST", f"{SAGAS}/{run_id}/compensate")):
        resp = await client.request(method, path, headers=ann)
        assert resp.status_code == 403, (method, path, resp.text)
    assert (await app.state.resources.db["orders_sagas"].find_one({}))["attempt"] == 1  # nothing retried


async def test_a_compensated_run_is_retried_once_per_click(client: httpx.AsyncClient, app: Any, admin: Any,
                                                           ann: Any, carol: Any) -> None:
    declined, _ = await paid(client, app, ann, carol, method="declined")
    run = await run_of(client, admin, declined["id"])
    retry = f"{SAGAS}/{run['id']}/retry"

    again = await client.post(retry, json={"attempt": 1}, headers=admin)  # still declined: compensated again
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["state"], body["attempt"], body["failed_step"]) == ("compensated", 2, "charge")
    assert body["attempts"][0]["attempt"] == 1 and body["attempts"][0]["steps"][0]["state"] == "failed"
    assert body["actions"][0]["action"] == "retry" and body["actions"][0]["by"] == "root"
    assert body["steps"][0]["started_at"] > run["steps"][0]["started_at"]  # this attempt's own timing

    twice = await client.post(retry, json={"attempt": 1}, headers=admin)  # the same click again
    assert twice.status_code == 200 and twice.json() == (await client.get(f"{SAGAS}/{run['id']}",
                                                                         headers=admin)).json()
    assert twice.json()["attempt"] == 2

    # the customer's card fixed: the retry charges and records, as the person who paid (ann)
    await app.state.resources.db["orders_orders"].update_one({"_id": ObjectId(declined["id"])},
                                                             {"$set": {"payment_method": "card"}})
    fixed = await client.post(retry, json={"attempt": 2}, headers=admin)
    assert fixed.status_code == 200 and fixed.json()["state"] == "completed" and fixed.json()["attempt"] == 3
    assert [(s["name"], s["state"]) for s in fixed.json()["steps"]] == [("charge", "done"), ("record", "done")]
    order = (await client.get(f"{API}/{declined['id']}", headers=ann)).json()
    assert order["state"] == "paid" and order["history"][-1]["by"] == "ann"
    payment = await app.state.resources.db["orders_payments"].find_one({"_id": order["payment_id"]})
    assert payment["state"] == "charged"
    assert (await client.post(retry, json={"attempt": 2}, headers=admin)).json()["attempt"] == 3  # no 2nd charge
    assert await app.state.resources.db["orders_payments"].count_documents({}) == 1

    for action in ("retry", "compensate"):
        refused = await client.post(f"{SAGAS}/{run['id']}/{action}", headers=admin)
        assert refused.status_code == 409, refused.text
        assert "it is completed" in refused.json()["error"]["message"]
        assert refused.json()["error"]["details"]["state"] == "completed"


async def test_a_failed_run_is_compensated_once(client: httpx.AsyncClient, app: Any, admin: Any,
                                                ann: Any, carol: Any) -> None:
    """A run whose refund kept failing (the payment provider away): the charge is still done."""
    await paid(client, app, ann, carol)
    db = app.state.resources.db
    run = await db["orders_sagas"].find_one({})
    await db["orders_sagas"].update_one({"_id": run["_id"]}, {"$set": {
        "state": "failed", "done": ["charge"], "failed_step": "record", "error": "ConflictError: order moved",
        "compensation_errors": {"charge": "ConnectError: payment provider away"},
        "steps": [{**run["steps"][0], "state": "compensation_failed",
                   "compensation_error": "ConnectError: payment provider away"},
                  {**run["steps"][1], "state": "failed", "error": "ConflictError: order moved"}]}})
    path = f"{SAGAS}/{run['_id']}"
    shown = (await client.get(path, headers=admin)).json()
    assert shown["actions_allowed"] == ["compensate"] and shown["steps"][0]["state"] == "compensation_failed"
    retry = await client.post(f"{path}/retry", headers=admin)
    assert retry.status_code == 409 and retry.json()["error"]["details"]["state"] == "failed"

    done = await client.post(f"{path}/compensate", headers=admin)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["state"] == "compensated" and body["compensation_errors"] == {}
    assert body["steps"][0]["state"] == "compensated" and body["steps"][0]["compensated_at"]
    assert body["actions"][-1]["action"] == "compensate" and body["actions"][-1]["by"] == "root"
    assert body["actions"][-1]["errors"] == {"charge": "ConnectError: payment provider away"}
    payment = await db["orders_payments"].find_one({"_id": run["results"]["charge"]})
    assert payment["state"] == "refunded"

    twice = await client.post(f"{path}/compensate", headers=admin)
    assert twice.status_code == 200 and twice.json() == (await client.get(path, headers=admin)).json()
    assert len(twice.json()["actions"]) == 1
