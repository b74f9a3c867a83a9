"""Dead letters through the events service: admin only; replay and discard."""

from __future__ import annotations

import uuid


async def test_dead_letters_can_be_listed_inspected_replayed_and_discarded(
        client, admin, alice, other_service, eventually) -> None:
    service = f"mailer{uuid.uuid4().hex[:6]}"
    bus = other_service(service, max_deliver=2)
    healthy = {"on": False}
    handled: list[str] = []

    @bus.on(f"{service}:queued", name="send")
    async def send(event) -> None:
        if not healthy["on"]:
            raise RuntimeError("SMTP down")
        handled.append(event.payload["to"])

    await bus.start()
    first = await bus.emit(f"{service}:queued", {"to": "a@x"})
    second = await bus.emit(f"{service}:queued", {"to": "b@x"})
    consumer = f"{service}--send"

    async def both_dead():
        page = (await client.get("/dead-letters", params={"consumer": consumer}, headers=admin)).json()
        return page if page["total"] == 2 else None

    page = await eventually(both_dead)
    assert (await client.get("/dead-letters", headers=alice)).status_code == 403
    by_event = {d["envelope"]["id"]: d for d in page["items"]}
    letter = by_event[first.id]
    assert letter["attempts"] == 2 and "SMTP down" in letter["error"] and letter["reason"] == "handler_failed"
    assert letter["topic"] == f"{service}:queued" and letter["service"] == service
    inspected = await client.get(f"/dead-letters/{letter['id']}", headers=admin)
    assert inspected.json()["envelope"]["payload"] == {"to": "a@x"}

    healthy["on"] = True
    replayed = await client.post(f"/dead-letters/{letter['id']}/replay", headers=admin)
    assert replayed.status_code == 200 and replayed.json()["status"] == "replayed"
    await eventually(lambda: handled == ["a@x"])
    assert (await client.post(f"/dead-letters/{letter['id']}/replay", headers=admin)).status_code == 409
    assert (await client.post(f"/dead-letters/{letter['id']}/replay", headers=alice)).status_code == 403

    other = by_event[second.id]
    discarded = await client.delete(f"/dead-letters/{other['id']}", headers=admin)
    assert discarded.json()["status"] == "discarded" and discarded.json()["handled_by"] == "root"
    pending = (await client.get("/dead-letters", params={"consumer": consumer}, headers=admin)).json()
    assert pending["total"] == 0
    assert (await client.get("/dead-letters/nope", headers=admin)).status_code == 404


async def test_replay_all_delivers_every_pending_letter_again(client, admin, other_service, eventually) -> None:
    service = f"sync{uuid.uuid4().hex[:6]}"
    bus = other_service(service, max_deliver=1)
    healthy = {"on": False}
    handled: list[int] = []

    @bus.on(f"{service}:changed", name="push")
    async def push(event) -> None:
        if not healthy["on"]:
            raise RuntimeError("remote down")
        handled.append(event.payload["n"])

    await bus.start()
    for n in range(3):
        await bus.emit(f"{service}:changed", {"n": n})
    consumer = f"{service}--push"

    async def all_dead():
        page = (await client.get("/dead-letters", params={"consumer": consumer}, headers=admin)).json()
        return page["total"] == 3

    await eventually(all_dead)
    healthy["on"] = True
    result = await client.post("/dead-letters/replay", params={"consumer": consumer}, headers=admin)
    assert result.json() == {"replayed": 3}
    await eventually(lambda: sorted(handled) == [0, 1, 2])
