"""The inventory module in a real module host (MongoDB + NATS): the catalogue, receipts,
reservations for paid orders (all lines or none, once per order), `stock:low`, the valuation job."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from webos_common import context
from webos_common.documents import EventPublisher
from webos_common.identity import SYSTEM_USER
from webos_common.modules.hooks import ModuleContext

API = "/api/inventory"


async def item(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    resp = await client.post(f"{API}/items", json={"sku": "A-1", "name": "Bolt", "price": 2.5, **fields},
                             headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def topics(app: Any) -> list[str]:
    outbox = app.state.resources.db["inventory_outbox"]
    return [row["envelope"]["topic"] async for row in outbox.find({}, sort=[("created_at", 1)])]


async def test_catalogue_receipts_and_bad_input(client: httpx.AsyncClient, ann: dict[str, str],
                                                ben: dict[str, str]) -> None:
    bolt = await item(client, ann, on_hand=5)
    assert (bolt["sku"], bolt["on_hand"], bolt["reserved"]) == ("A-1", 5, 0)
    # a shared catalogue: another user sees and stocks the same item
    resp = await client.post(f"{API}/items/{bolt['id']}/receive", json={"quantity": 7}, headers=ben)
    assert resp.status_code == 200 and resp.json()["on_hand"] == 12
    resp = await client.post(f"{API}/items", json={"sku": "A-1", "name": "Again"}, headers=ann)
    assert resp.status_code == 409 and "sku" in resp.text
    resp = await client.post(f"{API}/items", json={"sku": "bad sku!", "name": "x"}, headers=ann)
    assert resp.status_code == 422 and "sku" in resp.text
    resp = await client.post(f"{API}/items/{bolt['id']}/receive", json={"quantity": 0}, headers=ann)
    assert resp.status_code == 422 and "quantity" in resp.text
    assert (await client.get(f"{API}/items")).status_code == 401
    value = (await client.get(f"{API}/valuation", headers=ann)).json()
    assert value == {"value": 30.0, "units": 12.0}


async def test_bulk_edit_of_the_catalogue(client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    items = [await item(client, ann, sku=f"B-{n}") for n in range(2)]
    body = {"ids": [i["id"] for i in items], "changes": {"reorder_level": 4}}
    resp = await client.patch(f"{API}/items/bulk", json=body, headers=ann)
    assert resp.json() == {"modified": 2}
    assert {(await client.get(f"{API}/items/{i['id']}", headers=ann)).json()["reorder_level"] for i in items} == {4}
    resp = await client.patch(f"{API}/items/bulk", json={**body, "changes": {"reorder_level": -1}}, headers=ann)
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "changes.reorder_level"


async def test_a_paid_order_reserves_over_the_bus_once(client: httpx.AsyncClient, app: Any,
                                                       ann: dict[str, str]) -> None:
    bolt = await item(client, ann, on_hand=10, reorder_level=4)
    nut = await item(client, ann, sku="N-1", name="Nut", on_hand=3)
    lines = [{"item_id": bolt["id"], "quantity": 7}, {"item_id": nut["id"], "quantity": 1}]
    bus = app.state.resources.bus
    with context.as_user(SYSTEM_USER):
        for _ in range(2):  # delivered twice: reserved once
            await bus.emit("order:paid", {"order_id": "o-1", "lines": lines, "amount": 20.0})
    db = app.state.resources.db
    for _ in range(300):
        if "stock:reserved" in await topics(app):
            break
        await asyncio.sleep(0.1)
    got = (await client.get(f"{API}/items/{bolt['id']}", headers=ann)).json()
    assert got["reserved"] == 7
    assert (await client.get(f"{API}/items/{nut['id']}", headers=ann)).json()["reserved"] == 1
    assert await db["inventory_reservations"].count_documents({"order_id": "o-1"}) == 1
    found = await topics(app)
    assert found.count("stock:reserved") == 1 and found.count("stock:low") == 1  # 3 left under 4
    low = await db["inventory_outbox"].find_one({"envelope.topic": "stock:low"})
    assert low["envelope"]["payload"] == {"item_id": bolt["id"], "sku": "A-1", "available": 3, "reorder_level": 4}


async def test_a_reservation_is_all_lines_or_none(client: httpx.AsyncClient, app: Any,
                                                  ann: dict[str, str]) -> None:
    from webos_inventory.service import ItemService

    bolt = await item(client, ann, on_hand=10)
    nut = await item(client, ann, sku="N-1", name="Nut", on_hand=1)
    service = ItemService(events=app.state.services.get(EventPublisher))
    with context.as_user(SYSTEM_USER):
        failed = await service.reserve("o-2", [{"item_id": bolt["id"], "quantity": 2},
                                               {"item_id": nut["id"], "quantity": 5}])
        unknown = await service.reserve("o-3", [{"item_id": "nope", "quantity": 1}])
    assert failed.state == "failed" and "not enough N-1" in (failed.reason or "")
    assert unknown.state == "failed" and "no item" in (unknown.reason or "")
    assert (await client.get(f"{API}/items/{bolt['id']}", headers=ann)).json()["reserved"] == 0
    assert (await topics(app)).count("stock:reservation_failed") == 2


async def test_the_nightly_valuation_job(client: httpx.AsyncClient, app: Any, ann: dict[str, str]) -> None:
    from webos_inventory.tasks import record_valuation

    await item(client, ann, on_hand=4, price=2.5)
    with context.as_user(SYSTEM_USER):
        value = await record_valuation(ModuleContext(name="inventory", settings=None, resources=app.state.resources,
                                                     services=app.state.services))
    assert value == {"value": 10.0, "units": 4.0}
    assert await app.state.resources.db["inventory_valuations"].count_documents({"value": 10.0}) == 1


async def test_a_retried_create_answers_the_first_response_and_lists_are_bounded(
        client: httpx.AsyncClient, ann: dict[str, str]) -> None:
    """A client that lost the answer sends the create again with its Idempotency-Key: the SKU
    check does not refuse the retry as a conflict, and one item exists."""
    key = {**ann, "Idempotency-Key": "item-7"}
    first = await client.post(f"{API}/items", json={"sku": "R-7", "name": "Rivet"}, headers=key)
    again = await client.post(f"{API}/items", json={"sku": "R-7", "name": "Rivet"}, headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    other = await client.post(f"{API}/items", json={"sku": "R-8", "name": "Rivet"}, headers=key)
    assert other.status_code == 422 and other.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    assert len((await client.get(f"{API}/items", params={"sku": "R-7"}, headers=ann)).json()["items"]) == 1
    huge = await client.get(f"{API}/items", params={"limit": 2**70}, headers=ann)
    assert huge.status_code == 422 and huge.json()["error"]["details"][0]["field"] == "limit"


async def test_the_catalogue_pages_by_sku_with_a_cursor_and_fields(client: httpx.AsyncClient,
                                                                   ann: dict[str, str]) -> None:
    for sku in ("C-3", "A-1", "B-2"):
        await item(client, ann, sku=sku)
    first = (await client.get(f"{API}/items", params={"limit": 2, "fields": "sku"}, headers=ann)).json()
    rest = (await client.get(f"{API}/items", params={"limit": 2, "fields": "sku", "cursor": first["next_cursor"]},
                             headers=ann)).json()
    assert [i["sku"] for i in first["items"] + rest["items"]] == ["A-1", "B-2", "C-3"]
    assert rest["has_more"] is False and rest["next_cursor"] is None
    bad = await client.get(f"{API}/items", params={"fields": "sku,secret"}, headers=ann)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "fields"
    counted = (await client.get(f"{API}/items", params={"limit": 1, "meta": "total"}, headers=ann)).json()
    assert counted["total"] == 3 and counted["skip"] == 0
    assert (await client.get(f"{API}/items", params={"skip": 2}, headers=ann)).json()["items"][0]["sku"] == "C-3"


async def test_reservations_and_receipts_at_once_all_count_and_one_order_reserves_once(
        client: httpx.AsyncClient, app: Any, ann: dict[str, str]) -> None:
    """Concurrency as on two replicas: ten orders reserving one item at once, the same order
    delivered three times at once, and five receipts at once. Each write reads the item in its
    own transaction (the loser of a write conflict runs again), so none is lost; the same order
    makes one reservation. The items were read before the transaction and written back whole:
    reservations and receipts overwrote each other."""
    from webos_inventory.service import ItemService

    bolt = await item(client, ann, on_hand=100)
    service = ItemService(events=app.state.services.get(EventPublisher))
    line = [{"item_id": bolt["id"], "quantity": 3}]
    with context.as_user(SYSTEM_USER):
        made = await asyncio.gather(*(service.reserve(f"many-{n}", line) for n in range(10)),
                                    *(service.reserve("twice", line) for _ in range(3)))
    assert {r.state for r in made} == {"reserved"}
    assert len({r.id for r in made[10:]}) == 1  # the same order: one reservation, its outcome thrice
    db = app.state.resources.db
    assert await db["inventory_reservations"].count_documents({"order_id": "twice"}) == 1
    assert (await client.get(f"{API}/items/{bolt['id']}", headers=ann)).json()["reserved"] == 33
    receipts = await asyncio.gather(*(client.post(f"{API}/items/{bolt['id']}/receive", json={"quantity": 2},
                                                  headers=ann) for _ in range(5)))
    assert [r.status_code for r in receipts] == [200] * 5, [r.text for r in receipts]
    assert (await client.get(f"{API}/items/{bolt['id']}", headers=ann)).json()["on_hand"] == 110
