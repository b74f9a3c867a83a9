"""Mail digests follow each person's preferences (real NATS, MongoDB and an SMTP
server; the settings and auth services answer through stand-in responders)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client as NATS

from webos_common.clients.auth import CONTACTS_SUBJECT
from webos_common.settings.client import USER_SUBJECT
from webos_common.settings.mail import SmtpMailer
from webos_common.testing.smtp import SmtpSink
from webos_events.domain.models import NotificationIn
from webos_events.services.digest import run_digest
from webos_events.services.notifications import notify

PREFS = {"ann": {"email_enabled": True, "digest_frequency": "daily"},
         "bob": {"email_enabled": True, "digest_frequency": "never"},
         "cy": {"email_enabled": False, "digest_frequency": "daily"}}


async def test_digests_follow_preferences_and_never_repeat(app: Any, client: Any, nc: NATS) -> None:
    async def settings_answer(msg: Any) -> None:
        asked = json.loads(msg.data)
        await msg.respond(json.dumps({"values": PREFS[asked["user_id"]], "version": 1}).encode())

    async def auth_answer(msg: Any) -> None:
        ids = json.loads(msg.data)["ids"]
        await msg.respond(json.dumps({"users": {i: {"email": f"{i}@example.com", "username": i, "active": True}
                                                for i in ids}}).encode())

    subs = [await nc.subscribe(USER_SUBJECT, cb=settings_answer), await nc.subscribe(CONTACTS_SUBJECT, cb=auth_answer)]
    db = app.state.resources.db
    try:
        for user in ("ann", "bob", "cy"):
            for n in range(2):
                await notify(db, None, NotificationIn(user_id=user, title=f"{user} note {n}"))
        async with SmtpSink() as sink:
            mailer = SmtpMailer(host="127.0.0.1", port=sink.port, sender="webos@acme.test")
            assert await run_digest(db, nc, None) == 0  # no SMTP server saved: nothing sent
            now = datetime.now(UTC)
            assert await run_digest(db, nc, mailer, now=now, public_url="https://webos.acme.test") == 1
            async with asyncio.timeout(10):
                mail = await sink.wait_for(lambda m: m["to"] == ["ann@example.com"])
            assert mail["subject"] == "You have 2 unread notification(s)"
            assert "- ann note 1\n- ann note 0" in mail["body"]
            assert "https://webos.acme.test/notifications" in mail["body"]
            assert await run_digest(db, nc, mailer, now=now + timedelta(hours=1)) == 0  # nothing new, not due
            await notify(db, None, NotificationIn(user_id="ann", title="ann note 2"))
            assert await run_digest(db, nc, mailer, now=now + timedelta(hours=2)) == 0  # new, but not due yet
            assert await run_digest(db, nc, mailer, now=now + timedelta(days=1)) == 1
            async with asyncio.timeout(10):
                second = await sink.wait_for(lambda m: "1 unread" in (m["subject"] or ""))
            assert "ann note 2" in second["body"] and "ann note 0" not in second["body"]  # never repeated
            assert [m["to"] for m in sink.messages] == [["ann@example.com"], ["ann@example.com"]]  # bob, cy: off
            left = await db["events_notifications"].count_documents({"read": False, "digested_at": None})
            assert left == 0  # bob's and cy's are settled too: no round asks about them again
    finally:
        for sub in subs:
            await sub.unsubscribe()
