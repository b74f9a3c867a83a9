"""Outgoing mail for platform services: `SmtpMailer`, and the SMTP server an
admin saved in the system settings (section `smtp`, read with
`webos_common.settings.client.SystemSettings(nc, "smtp", SmtpSection)`).

    mailer = smtp_from(section)            # None until an admin saved a host
    if mailer: await mailer.send(Mail(to="ann@example.com", subject="Hi", body="…"))
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
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


def smtp_from(section: Any) -> SmtpMailer | None:
    """An `SmtpMailer` for the saved `smtp` section (a `SystemSettings`), or None when no
    host was saved. Port 465 with TLS is implicit TLS; any other port with TLS, STARTTLS."""
    if "host" not in section.explicit:
        return None
    cfg: SmtpSection = section.get()
    implicit_tls = cfg.use_tls and cfg.port == 465
    return SmtpMailer(host=cfg.host, port=cfg.port, sender=cfg.from_address, username=cfg.username,
                      password=cfg.password, starttls=cfg.use_tls and not implicit_tls, use_ssl=implicit_tls)
