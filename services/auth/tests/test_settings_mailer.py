"""Mail goes through the SMTP server an admin saved in the system settings, and
through the environment's mailer until one is saved (a real SMTP conversation)."""

from __future__ import annotations

import asyncio
from typing import Any

from webos_auth.adapters.mail import Mail, SettingsMailer, SmtpSection
from webos_common.testing.smtp import SmtpSink


class Section:
    """What SettingsMailer reads of `webos_common.settings.client.SystemSettings`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.explicit = values
        self.value = SmtpSection.model_validate(values)

    def get(self) -> SmtpSection:
        return self.value


class Recording:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)


async def test_the_admins_smtp_server_is_used_once_saved() -> None:
    fallback = Recording()
    async with SmtpSink() as sink:
        unset = SettingsMailer(fallback, Section({}))
        await unset.send(Mail(to="ann@example.com", subject="first", body="via the environment"))
        assert [m.subject for m in fallback.sent] == ["first"] and sink.messages == []

        saved = Section({"host": "127.0.0.1", "port": sink.port, "use_tls": False,
                         "from_address": "noreply@acme.test"})
        await SettingsMailer(fallback, saved).send(Mail(to="ann@example.com", subject="Reset", body="link\n"))
        async with asyncio.timeout(10):
            message = await sink.wait_for(lambda m: m["subject"] == "Reset")
    assert message["from"] == "noreply@acme.test" and message["to"] == ["ann@example.com"]
    assert message["body"].strip() == "link" and len(fallback.sent) == 1
