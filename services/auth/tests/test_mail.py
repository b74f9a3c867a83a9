"""The SMTP adapter speaks real SMTP, to a minimal server on loopback (the
outbox adapter is exercised by every mail-reading test through /dev/mail)."""

from __future__ import annotations

import asyncio
import email

from webos_auth.mail import Mail, SmtpMailer


async def _smtp_server(received: list[bytes]) -> asyncio.Server:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        while line := await reader.readline():
            verb = line.split(b" ")[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250 test\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                received.append(await reader.readuntil(b"\r\n.\r\n"))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    return await asyncio.start_server(session, "127.0.0.1", 0)


async def test_smtp_mailer_delivers_a_message() -> None:
    received: list[bytes] = []
    server = await _smtp_server(received)
    port = server.sockets[0].getsockname()[1]
    try:
        mailer = SmtpMailer(host="127.0.0.1", port=port, sender="WebOS <noreply@example.com>")
        await mailer.send(Mail(to="zoe@example.com", subject="Reset your WebOS password", body="link: x\n"))
    finally:
        server.close()
        await server.wait_closed()
    assert len(received) == 1
    message = email.message_from_bytes(received[0])
    assert message["To"] == "zoe@example.com" and message["Subject"] == "Reset your WebOS password"
    assert "link: x" in message.get_payload()
