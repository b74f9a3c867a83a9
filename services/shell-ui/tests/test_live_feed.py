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
