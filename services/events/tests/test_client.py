"""`webos_common.clients.events` against the real events service (in-process ASGI)."""

from __future__ import annotations

import httpx
import pytest

from webos_common.clients.events import EventsClient
from webos_common.http.errors import Forbidden, NotFound, ValidationFailed
from webos_common.testing import lifespan_client


async def test_notify_list_read_and_errors(app, issuer) -> None:
    async with lifespan_client(app):
        def as_(token: str) -> EventsClient:
            return EventsClient("http://events", token=token, transport=httpx.ASGITransport(app=app))

        sender = issuer.token("svc", permissions=("notifications.send",))
        async with as_(sender) as events:
            sent = await events.notify("alice", "Report ready", "Q3 is in", level="success", link="/files/q3")
            assert (sent.user_id, sent.level, sent.read) == ("alice", "success", False)
            with pytest.raises(ValidationFailed) as bad:
                await events.notify("alice", "x" * 400)  # refused before any request
            assert "title" in str(bad.value.details)
        async with as_(issuer.token("alice")) as events:
            page = await events.notifications(unread=True)
            assert [n.title for n in page.items] == ["Report ready"] and await events.unread_count() == 1
            assert (await events.mark_read(sent.id)).read is True
            assert await events.unread_count() == 0
            with pytest.raises(NotFound):
                await events.task("no-such-task")
            with pytest.raises(Forbidden):
                await events.notify("bob", "not allowed")  # alice lacks notifications.send
        async with as_(issuer.token("bob")) as events:
            with pytest.raises(NotFound):
                await events.mark_read(sent.id)  # not bob's
