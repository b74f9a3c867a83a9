"""Outgoing mail through a port: `SmtpMailer` for real use, `OutboxMailer`
(stores every message in `auth_outbox`, readable at `GET /dev/mail`) for
development, tests and `make up`, and `SettingsMailer`, which prefers the SMTP
server an admin saved in the system settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from webos_common.settings.mail import Mail, Mailer, SmtpMailer, SmtpSection, smtp_from

__all__ = ["Mail", "Mailer", "OutboxMailer", "SettingsMailer", "SmtpMailer", "SmtpSection"]


class OutboxMailer:
    def __init__(self, collection: Any) -> None:
        self.collection = collection

    async def send(self, mail: Mail) -> None:
        await self.collection.insert_one({
            "_id": uuid.uuid4().hex, "to": mail.to.lower(), "subject": mail.subject, "body": mail.body,
            "kind": mail.kind, "token": mail.link_token, "sent_at": datetime.now(UTC),
        })

    async def list(self, to: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query = {"to": to.lower()} if to else {}
        return [doc async for doc in self.collection.find(query, sort=[("sent_at", -1)], limit=limit)]


class SettingsMailer:
    """Sends through the SMTP server an admin configured in the system settings
    (section `smtp`) once one is saved there, and through `fallback` (the
    environment's mailer: the development outbox, or `WEBOS_SMTP_*`) until then.
    Changes apply to the next mail, without a restart."""

    def __init__(self, fallback: Mailer, section: Any) -> None:
        self.fallback, self.section = fallback, section  # a webos_common.settings.client.SystemSettings

    async def send(self, mail: Mail) -> None:
        await (smtp_from(self.section) or self.fallback).send(mail)
