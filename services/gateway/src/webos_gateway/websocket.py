"""WebSocket proxying: the client side is the ASGI websocket, the upstream
side an aiohttp client websocket; frames are pumped both ways until either
side closes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from webos_common.http.lifecycle import cancel_and_wait
from webos_gateway.refusal import Refused
from webos_gateway.routing import Route

if TYPE_CHECKING:
    from webos_gateway.state import Gateway


async def proxy_websocket(gw: Gateway, scope: dict[str, Any], receive: Any, send: Any, route: Route) -> None:
    started = time.perf_counter()
    req = gw.inspect(scope)
    status, user_id = 101, "-"
    try:
        if (await receive())["type"] != "websocket.connect":
            return
        gw.check_origin(scope, req)
        user = await gw.authenticate(scope, route, req)
        user_id = user.id if user else "-"
        await gw.check_limits(scope, route, user)
        upstream = await _connect(gw, scope, route, req)
    except Refused as exc:
        status = exc.status
        await send({"type": "websocket.close", "code": 1008, "reason": exc.message[:120]})
        return
    finally:
        if status != 101:
            elapsed = time.perf_counter() - started
            gw.metrics.observe(route.label, "WS", status, elapsed)
            gw.access_log.write("WS", scope["path"], status, elapsed, user_id, route.label, req)
    try:
        await send({"type": "websocket.accept", "subprotocol": upstream.protocol,
                    "headers": req.response_headers})
        await _pump(upstream, receive, send)
    finally:
        await upstream.close()
        elapsed = time.perf_counter() - started
        gw.metrics.observe(route.label, "WS", 101, elapsed)
        gw.access_log.write("WS", scope["path"], 101, elapsed, user_id, route.label, req)


async def _connect(gw: Gateway, scope: dict[str, Any], route: Route, req: Any) -> aiohttp.ClientWebSocketResponse:
    raw_path = scope.get("raw_path") or scope["path"].encode()
    path = (raw_path[route.prefix_len:] or b"/").decode("latin-1")
    query = (scope.get("query_string") or b"").decode("latin-1")
    target = path + ("?" + query if query else "")
    last: Exception | None = None
    bases = await gw.live_upstreams(route)
    await gw.check_module_limit(route)
    for base, instance in bases:
        url = "ws" + base[4:] if base.startswith("http") else base
        try:
            return await gw.session.ws_connect(
                URL(url + target, encoded=True),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in req.headers]
                + ([("Host", req.host.decode("latin-1"))] if req.host else []),
                protocols=scope.get("subprotocols") or (),
                autoping=True, max_msg_size=0, compress=0,
            )
        except aiohttp.ClientConnectorError as exc:
            last = exc
            gw.metrics.upstream_error(route.label, "connect")
            if instance is not None:
                gw.table.mark_down(route.name, instance)
        except aiohttp.WSServerHandshakeError as exc:
            gw.metrics.upstream_error(route.label, "handshake")
            raise Refused(exc.status or 502, "bad_gateway", f"{route.name} refused the WebSocket") from exc
    raise Refused(*gw.unavailable(route, str(last)))


async def _pump(upstream: aiohttp.ClientWebSocketResponse, receive: Any, send: Any) -> None:
    async def client_to_upstream() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(code=message.get("code", 1000))
                return
            if message.get("text") is not None:
                await upstream.send_str(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send_bytes(message["bytes"])

    async def upstream_to_client() -> None:
        async for message in upstream:
            if message.type == aiohttp.WSMsgType.TEXT:
                await send({"type": "websocket.send", "text": message.data})
            elif message.type == aiohttp.WSMsgType.BINARY:
                await send({"type": "websocket.send", "bytes": message.data})
            elif message.type == aiohttp.WSMsgType.ERROR:
                break
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": upstream.close_code or 1000})

    tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(tasks, what="websocket relay")
