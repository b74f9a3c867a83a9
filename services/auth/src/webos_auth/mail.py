"""Outgoing mail through a port: `SmtpMailer` for real use, `OutboxMailer`
(stores every message in `auth_outbox`, readable at `GET /dev/mail`) for
development, tests and `make up`, and `SettingsMailer`, which prefers the SMTP
server an admin saved in the system settings."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    kind: str = "notice"  # verify, reset, invite, notice
    link_token: str | None = None


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None:
        """Deliver (or store) one message."""


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


class SmtpMailer:
    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, use_ssl: bool = False,
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.use_ssl, self.timeout = starttls, use_ssl, timeout

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, mail.to, mail.subject
        msg.set_content(mail.body)
        context = ssl.create_default_context()
        smtp_cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        kwargs: dict[str, Any] = {"context": context} if self.use_ssl else {}
        with smtp_cls(self.host, self.port, timeout=self.timeout, **kwargs) as smtp:
            if self.starttls and not self.use_ssl:
                smtp.starttls(context=context)
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)


class SmtpSection(BaseModel):
    """The system settings section `smtp`, as an admin edits it in the shell."""

    model_config = ConfigDict(extra="ignore")

    host: str = "localhost"
    port: int = 587
    username: str | None = None
    password: str | None = None
    use_tls: bool = True
    from_address: str = "webos@localhost"


class SettingsMailer:
    """Sends through the SMTP server an admin configured in the system settings
    (section `smtp`) once one is saved there, and through `fallback` (the
    environment's mailer: the development outbox, or `WEBOS_SMTP_*`) until then.
    Changes apply to the next mail, without a restart."""

    def __init__(self, fallback: Mailer, section: Any) -> None:
        self.fallback, self.section = fallback, section  # a webos_common.settings.SystemSettings

    def smtp(self) -> SmtpMailer | None:
        if "host" not in self.section.explicit:
            return None
        cfg: SmtpSection = self.section.get()
        implicit_tls = cfg.use_tls and cfg.port == 465
        return SmtpMailer(host=cfg.host, port=cfg.port, sender=cfg.from_address, username=cfg.username,
                          password=cfg.password, starttls=cfg.use_tls and not implicit_tls, use_ssl=implicit_tls)

    async def send(self, mail: Mail) -> None:
        smtp = self.smtp()
        await (smtp or self.fallback).send(mail)
