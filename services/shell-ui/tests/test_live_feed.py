"""Live push across shell replicas: every replica listens to the same notification subject on
core NATS and hands each one to the pages it holds for that person, so a notification reaches
a person whose page (and socket) is on another replica than the one nearest the publisher."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import nats

from webos_common.bus.envelope import EventEnvelope
from webos_common.bus.topics import event_subject
from webos_common.bus.wire import envelope_body, envelope_headers
from webos_common.identity import User
from webos_shell.live import LiveFeed


async def test_a_notification_reaches_the_person_on_whichever_replica_holds_their_page(nats_url: str) -> None:
    connections = [await nats.connect(nats_url) for _ in range(3)]
    replicas = [LiveFeed(), LiveFeed()]  # two shell-ui processes, each with its own connection
    for feed, nc in zip(replicas, connections, strict=False):
        await feed.start(nc)
        await nc.flush()  # the subscriptions are on the server before anything is published
    ann_pages: list[dict[str, Any]] = []  # ann's page lives on the second replica
    bob_pages: list[dict[str, Any]] = []  # bob's on the first
    replicas[1].listen("ann", ann_pages.append)
    replicas[0].listen("bob", bob_pages.append)
    try:
        note = EventEnvelope(topic="notification:created", source="events",
                             payload={"id": uuid.uuid4().hex, "user_id": "ann", "title": "Approved"})
        publisher = connections[2]  # the events service
        await publisher.publish(event_subject("notification:created", "events"), envelope_body(note),
                                headers=envelope_headers(note))
        await publisher.flush()
        for _ in range(50):
            if ann_pages:
                break
            await asyncio.sleep(0.05)
        assert [(m["type"], m["data"]["title"]) for m in ann_pages] == [("notification:created", "Approved")]
        assert bob_pages == []  # the other replica holds no page of ann's: nothing shown to anyone else
    finally:
        for feed in replicas:
            await feed.stop()
        for nc in connections:
            await nc.close()


async def test_a_burst_of_record_changes_is_one_signal_per_module_for_whoever_may_read_them(nats_url: str) -> None:
    """An import of 200 rows is 200 `created` events: a page of their owner's hears "notes changed"
    once (and once more when the quiet time is up), not 200 times."""
    publisher, shell = await nats.connect(nats_url), await nats.connect(nats_url)
    feed = LiveFeed()
    feed.pieces_every = 60.0  # no second signal within this test: what it counts is the burst's first
    await feed.start(shell)
    await shell.flush()
    ann_page: list[dict[str, Any]] = []
    feed.listen(User(id="ann"), ann_page.append)

    async def created(source: str, entity: str, owner: str) -> None:
        event = EventEnvelope(topic=f"{entity}:created", source=source,
                              payload={"id": uuid.uuid4().hex, "owner_id": owner, "shares": []})
        await publisher.publish(event_subject(event.topic, source), envelope_body(event),
                                headers=envelope_headers(event))

    try:
        for _ in range(200):
            await created("notes", "note", "ann")
        await created("deals", "deal", "ann")  # after the burst on the same subject: the mark it was all read
        await publisher.flush()
        for _ in range(200):
            if len(ann_page) >= 2:
                break
            await asyncio.sleep(0.05)
        assert [m["data"]["module"] for m in ann_page] == ["notes", "deals"]
        assert all(m["type"] == "module:changed" and m["data"] == {"module": m["data"]["module"]} for m in ann_page)
    finally:
        await feed.stop()
        for nc in (publisher, shell):
            await nc.close()
