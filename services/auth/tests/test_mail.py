"""The SMTP adapter speaks real SMTP, to aiosmtpd on loopback (the
outbox adapter is exercised by every mail-reading test through /dev/mail)."""

from __future__ import annotations

from webos_auth.adapters.mail import Mail, SmtpMailer
from webos_common.testing.smtp import SmtpSink


async def test_smtp_mailer_delivers_a_message() -> None:
    async with SmtpSink() as sink:
        mailer = SmtpMailer(host="127.0.0.1", port=sink.port, sender="WebOS <noreply@example.com>")
        await mailer.send(Mail(to="zoe@example.com", subject="Reset your WebOS password", body="link: x\n"))
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["to"] == ["zoe@example.com"] and message["from"] == "noreply@example.com"
    assert message["headers"]["To"] == "zoe@example.com" and message["subject"] == "Reset your WebOS password"
    assert "link: x" in message["body"]
