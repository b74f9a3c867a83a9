"""`compat.uvicorn.BodyHttpProtocol`: request bodies reach the app whole in any pieces and on a
kept-alive connection, and a piece the app takes as it came is the parser's own object (no copy)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from webos_common.compat.uvicorn import BodyHttpProtocol
from webos_common.testing import serve_app


async def _digest_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    digest, size, more = hashlib.sha256(), 0, True
    while more:
        message = await receive()
        digest.update(message.get("body", b""))
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = f"{size} {digest.hexdigest()}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


async def _pieces(data: bytes, step: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), step):
        yield data[start:start + step]
        await asyncio.sleep(0)


@pytest.mark.timeout(60)
async def test_bodies_arrive_whole_in_any_pieces_and_on_a_kept_connection() -> None:
    data = os.urandom(5 * 1024 * 1024 + 17)
    async with (serve_app(_digest_app, http=BodyHttpProtocol, lifespan="off") as base,
                httpx.AsyncClient(base_url=base, timeout=20) as client):
        for body in (data, _pieces(data, 1000), _pieces(data, 300_000), b"", b"x"):
            sent = body if isinstance(body, bytes) else data
            answer = await client.post("/", content=body)
            assert answer.text == f"{len(sent)} {hashlib.sha256(sent).hexdigest()}"


class _Transport:
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name in ("peername", "sockname") else default

    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.timeout(10)
async def test_a_piece_taken_as_it_came_is_not_copied_and_pieces_held_are_joined() -> None:
    seen: list[Any] = []
    taken = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(await receive())
        taken.set()
        await asyncio.sleep(0.05)  # two pieces arrive meanwhile
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    protocol = BodyHttpProtocol(config, uvicorn.server.ServerState(), {}, asyncio.get_running_loop())
    protocol.connection_made(_Transport())  # type: ignore[arg-type]
    protocol.data_received(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\n")
    first = b"abc"
    protocol.on_body(first)  # what the parser hands over for a socket read's body bytes
    await asyncio.wait_for(taken.wait(), 5)
    assert seen[0]["body"] is first and seen[0]["more_body"]
    protocol.on_body(b"def")
    protocol.on_body(b"ghi")
    protocol.on_message_complete()
    for _ in range(100):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.01)
    assert seen[1] == {"type": "http.request", "body": b"defghi", "more_body": False}
