"""A real SMTP server for tests, in-process: it speaks enough SMTP (EHLO/HELO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no auth) for `smtplib` and keeps
every message it accepts.

    async with SmtpSink() as sink:          # on a free 127.0.0.1 port
        ... send to ("127.0.0.1", sink.port) ...
        async with asyncio.timeout(10):
            message = await sink.wait_for(lambda m: m["to"] == ["ann@example.com"])
"""

from __future__ import annotations

import asyncio
import email
from collections.abc import Callable
from email.message import Message
from typing import Any


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.messages: list[dict[str, Any]] = []
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    async def __aenter__(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, self.host, self.port)
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

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        sender, recipients = "", list[str]()
        await say("220 sink ESMTP")
        try:
            while line := (await reader.readline()).decode(errors="replace").rstrip("\r\n"):
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    await say("250 sink")
                elif verb == "MAIL":
                    sender, recipients = line.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                    await say("250 OK")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip().strip("<>").split(">")[0])
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    raw = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        raw += chunk[1:] if chunk.startswith(b"..") else chunk
                    parsed: Message = email.message_from_bytes(bytes(raw))
                    body = parsed.get_payload(decode=True) or b""
                    self.messages.append({"from": sender, "to": recipients, "subject": parsed["Subject"],
                                          "headers": dict(parsed.items()),
                                          "body": (body.decode(errors="replace") if isinstance(body, bytes)
                                                   else "").replace("\r\n", "\n")})  # wire CRLF → text
                    self._arrived.set()
                    await say("250 OK queued")
                elif verb in ("RSET", "NOOP"):
                    await say("250 OK")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("502 not implemented")
        finally:
            writer.close()
