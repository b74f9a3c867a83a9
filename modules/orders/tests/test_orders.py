"""The orders module on real module hosts (MongoDB + NATS): pricing from inventory's catalogue
through a read grant, the approval workflow (permission, four eyes, history, events), the payment
saga, and — with the inventory module's host beside it — reservation over the bus, fulfilment,
and the compensating refund when the reservation fails."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import httpx
from bson import ObjectId

from webos_common.testing import lifespan_client
from webos_modulehost import create_app

API = "/api/orders/orders"


async def stock(app: Any, *, sku: str = "A-1", price: float = 2.5, on_hand: int = 10) -> str:
    """An inventory item, written where the inventory module keeps them (orders only reads it)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    oid = ObjectId()
    await app.state.resources.db["inventory_items"].insert_one({
        "_id": oid, "sku": sku, "name": sku, "unit": "pcs", "price": price, "reorder_level": 0,
        "on_hand": on_hand, "reserved": 0, "created_at": now, "updated_at": now, "deleted_at": None})
    return str(oid)


async def order(client: httpx.AsyncClient, headers: dict[str, str], lines: list[dict[str, Any]],
                **fields: Any) -> dict[str, Any]:
    resp = await client.post(API, json={"lines": lines, **fields}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def act(client: httpx.AsyncClient, headers: dict[str, str], id: str, action: str) -> httpx.Response:
    return await client.post(f"{API}/{id}/transition", json={"action": action}, headers=headers)


async def approved(client: httpx.AsyncClient, ann: dict[str, str], carol: dict[str, str],
                   lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    made = await order(client, ann, lines, **fields)
    assert (await act(client, ann, made["id"], "submit")).status_code == 200
    resp = await act(client, carol, made["id"], "approve")
    assert resp.status_code == 200, resp.text
    return resp.json()


async def topics(app: Any) -> list[str]:
    outbox = app.state.resources.db["orders_outbox"]
    return [row["envelope"]["topic"] async for row in outbox.find({}, sort=[("created_at", 1)])]


async def test_lines_are_priced_from_the_catalogue(client: httpx.AsyncClient, app: Any,
                                                   ann: dict[str, str]) -> None:
    bolt = await stock(app, price=2.5)
    made = await order(client, ann, [{"item_id": bolt, "quantity": 4}])
    assert made["total"] == 10.0 and made["lines"][0]["sku"] == "A-1" and made["state"] == "draft"
    assert made["owner_id"] == "ann" and set(made["actions"]) == {"submit", "cancel"}
    resp = await client.post(API, json={"lines": [{"item_id": str(ObjectId()), "quantity": 1}]}, headers=ann)
    assert resp.status_code == 422 and "lines.0.item_id" in resp.text
    resp = await client.post(API, json={"lines": [{"item_id": bolt, "quantity": 0}]}, headers=ann)
    assert resp.status_code == 422 and "quantity" in resp.text
    resp = await client.post(API, json={"lines": []}, headers=ann)
    assert resp.status_code == 422 and "lines" in resp.text


async def test_a_retried_order_is_created_once_and_a_bad_one_holds_no_key(
        client: httpx.AsyncClient, app: Any, ann: dict[str, str]) -> None:
    bolt = await stock(app, price=2.5)
    key = {**ann, "Idempotency-Key": "order-1"}
    refused = await client.post(API, json={"lines": [{"item_id": str(ObjectId()), "quantity": 1}]}, headers=key)
    assert refused.status_code == 422  # refused input leaves the key free for the corrected request
    first = await client.post(API, json={"lines": [{"item_id": bolt, "quantity": 2}]}, headers=key)
    again = await client.post(API, json={"lines": [{"item_id": bolt, "quantity": 2}]}, headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert await app.state.resources.db["orders_orders"].count_documents({}) == 1
    assert (await topics(app)).count("order:created") == 1
    huge = await client.get(API, params={"skip": 2**70}, headers=ann)
    assert huge.status_code == 422 and huge.json()["error"]["details"][0]["field"] == "skip"


async def test_approval_needs_the_permission_and_another_person(client: httpx.AsyncClient, app: Any,
                                                                ann: dict[str, str], ben: dict[str, str],
                                                                carol: dict[str, str], issuer: Any) -> None:
    made = await order(client, ann, [{"item_id": await stock(app), "quantity": 1}])
    id = made["id"]
    assert (await act(client, carol, id, "approve")).status_code == 409  # a draft is not approved
    assert (await act(client, ann, id, "submit")).json()["state"] == "submitted"
    assert (await act(client, ben, id, "approve")).status_code == 403  # no orders.approve
    # an approver who submitted it may not approve it
    both = issuer.headers("ann", permissions=("orders.read", "orders.write", "orders.approve"))
    resp = await act(client, both, id, "approve")
    assert resp.status_code == 403 and "submit" in resp.text
    assert "approve" in (await client.get(f"{API}/{id}", headers=carol)).json()["actions"]
    got = (await act(client, carol, id, "approve")).json()
    assert got["state"] == "approved"
    assert [(h["action"], h["by"]) for h in got["history"]] == [("submit", "ann"), ("approve", "carol")]
    resp = await client.post(f"{API}/{id}/transition", json={"action": "fulfil"}, headers=carol)
    assert resp.status_code == 422 and "action" in resp.text  # the module's own transition, not the API's
    found = await topics(app)
    assert found.count("order:submitted") == 1 and found.count("order:approved") == 1
    row = await app.state.resources.db["orders_outbox"].find_one({"envelope.topic": "order:approved"})
    assert row["envelope"]["payload"]["by"] == "carol" and row["envelope"]["payload"]["state"] == "approved"


async def test_a_declined_card_leaves_the_order_approved(client: httpx.AsyncClient, app: Any,
                                                          ann: dict[str, str], carol: dict[str, str]) -> None:
    made = await approved(client, ann, carol, [{"item_id": await stock(app), "quantity": 1}],
                          payment_method="declined")
    resp = await client.post(f"{API}/{made['id']}/pay", headers=ann)
    assert resp.status_code == 409 and "payment_method" in resp.text and "declined" in resp.text
    got = (await client.get(f"{API}/{made['id']}", headers=ann)).json()
    assert got["state"] == "approved" and "declined" in got["failure"]
    db = app.state.resources.db
    assert await db["orders_payments"].count_documents({}) == 0
    run = await db["orders_sagas"].find_one({})
    assert run["state"] == "compensated" and run["failed_step"] == "charge"
    assert "order:paid" not in await topics(app)


async def wait_for(check: Callable[[], Any]) -> None:
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.1)


async def test_paid_orders_are_reserved_across_module_hosts_or_refunded(
        client: httpx.AsyncClient, app: Any, issuer: Any, ann: dict[str, str], carol: dict[str, str]) -> None:
    inventory = create_app("inventory")
    inventory.state.resources.verifier = issuer.verifier()
    async with lifespan_client(inventory) as inv:
        keeper = issuer.headers("kim", permissions=("inventory.read", "inventory.write"))
        resp = await inv.post("/api/inventory/items", json={"sku": "B-1", "name": "Bolt", "price": 3.0,
                                                              "on_hand": 5}, headers=keeper)
        bolt = resp.json()["id"]
        ok = await approved(client, ann, carol, [{"item_id": bolt, "quantity": 4}])
        short = await approved(client, ann, carol, [{"item_id": bolt, "quantity": 4}])

        resp = await client.post(f"{API}/{ok['id']}/pay", headers=ann)
        assert resp.status_code == 200 and resp.json()["state"] == "paid"

        async def state(id: str) -> str:
            return str((await client.get(f"{API}/{id}", headers=ann)).json()["state"])

        await wait_for(lambda: _is(state(ok["id"]), "fulfilled"))
        assert await state(ok["id"]) == "fulfilled"
        item = (await inv.get(f"/api/inventory/items/{bolt}", headers=keeper)).json()
        assert item["reserved"] == 4

        # only 1 left: inventory refuses, orders refunds the charge (the saga's compensation)
        assert (await client.post(f"{API}/{short['id']}/pay", headers=ann)).status_code == 200
        await wait_for(lambda: _is(state(short["id"]), "refunded"))
        got = (await client.get(f"{API}/{short['id']}", headers=ann)).json()
        assert got["state"] == "refunded" and "not enough B-1" in got["failure"]
        payment = await app.state.resources.db["orders_payments"].find_one({"_id": got["payment_id"]})
        assert payment["state"] == "refunded"
        kept = await app.state.resources.db["orders_payments"].find_one({"_id": (await client.get(
            f"{API}/{ok['id']}", headers=ann)).json()["payment_id"]})
        assert kept["state"] == "charged"
        assert (await inv.get(f"/api/inventory/items/{bolt}", headers=keeper)).json()["reserved"] == 4
        found = await topics(app)
        assert found.count("order:paid") == 2 and "order:fulfilled" in found and "order:refunded" in found


async def _is(value: Any, expected: str) -> bool:
    return bool(await value == expected)


async def test_the_manifest_declares_the_approval_permission(client: httpx.AsyncClient, app: Any) -> None:
    declared = {p.name: p for p in app.state.manifest.permissions}
    assert {"orders.read", "orders.write", "orders.approve", "orders.admin"} <= set(declared)
    assert not declared["orders.approve"].default, "approving is granted by an admin, not to every user"


async def test_orders_page_newest_first_with_a_cursor(client: httpx.AsyncClient, app: Any,
                                                      ann: dict[str, str]) -> None:
    bolt = await stock(app)
    made = [(await order(client, ann, [{"item_id": bolt, "quantity": n}]))["id"] for n in (1, 2, 3)]
    first = (await client.get(API, params={"limit": 2, "fields": "total"}, headers=ann)).json()
    rest = (await client.get(API, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ann)).json()
    assert [o["id"] for o in first["items"] + rest["items"]] == made[::-1]
    assert first["items"][0] == {"id": made[2], "total": 7.5}
    bad = await client.get(API, params={"cursor": "x" * 30}, headers=ann)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "cursor"


async def test_two_transitions_from_one_state_at_once_one_wins_the_other_is_a_409(
        client: httpx.AsyncClient, app: Any, ann: dict[str, str], carol: dict[str, str]) -> None:
    """A double-clicked approve leaves `submitted` once (one 200, one 409); an approve meeting
    the owner's cancel is either both, one after the other (a cancel of the approved order), or
    the cancel alone. The state was read before the transaction that wrote it: both passed the
    workflow's check from `submitted`, and the second write either met a write conflict (a 500)
    or, after the first committed, wrote a second transition out of one state."""
    bolt = await stock(app)
    outbox = app.state.resources.db["orders_outbox"]
    for rival, who in (("approve", carol), ("cancel", ann)):
        made = await order(client, ann, [{"item_id": bolt, "quantity": 1}])
        assert (await act(client, ann, made["id"], "submit")).status_code == 200
        answers = await asyncio.gather(act(client, carol, made["id"], "approve"), act(client, who, made["id"], rival))
        codes = [r.status_code for r in answers]
        assert set(codes) <= {200, 409}, [r.text for r in answers]
        history = (await client.get(f"{API}/{made['id']}", headers=ann)).json()["history"]
        assert all(a["to"] == b["from"] for a, b in pairwise(history)), history  # a chain
        assert len(history) == 1 + codes.count(200)  # each 200 one step, each 409 none
        events = await outbox.count_documents({"envelope.payload.id": made["id"],
                                               "envelope.topic": {"$in": ["order:approved", "order:cancelled"]}})
        assert events == codes.count(200)
        if rival == "approve":
            assert sorted(codes) == [200, 409], [r.text for r in answers]
