"""A real SMTP server for tests, in-process on the running event loop: aiosmtpd's
SMTP protocol with a handler that keeps every message it accepts.

    async with SmtpSink() as sink:          # on a free 127.0.0.1 port
        ... send to ("127.0.0.1", sink.port) ...
        async with asyncio.timeout(10):
            message = await sink.wait_for(lambda m: m["to"] == ["ann@example.com"])

Each message: `from`, `to`, `subject`, `headers`, `body` (the text, line ends as `\\n`)
and `raw` (the bytes as received).
"""

from __future__ import annotations

import asyncio
import email
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.messages: list[dict[str, Any]] = []
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    async def __aenter__(self) -> SmtpSink:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="sink"), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_for(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first message `match` accepts, waiting for it (wrap in `asyncio.timeout`)."""
        while True:
            for message in self.messages:
                if match(message):
                    return message
            self._arrived.clear()
            await self._arrived.wait()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw)
        body = parsed.get_payload(decode=True) or b""
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "subject": parsed["Subject"],
                              "headers": dict(parsed.items()), "raw": raw,
                              "body": (body.decode(errors="replace") if isinstance(body, bytes)
                                       else "").replace("\r\n", "\n")})  # wire CRLF → text
        self._arrived.set()
        return "250 OK queued"
