"""The data path: a pure-ASGI layer in front of the gateway's FastAPI app.

Per request: classify the path, verify the token once (cached verifier),
rate-limit, check the body size, pick an upstream (a core service, a live
module instance round-robin, or the shell), stream the body both ways on
the pooled raw client, add `traceparent`/`x-request-id`, record metrics
and log one line. The gateway's own endpoints fall through to FastAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from webos_common.http.errors import RETRY_AFTER
from webos_common.identity import User
from webos_gateway import spans
from webos_gateway.rawclient import UpstreamConnectError, UpstreamError, UpstreamTimeout
from webos_gateway.refusal import Refused
from webos_gateway.routing import OWN, Route, classify
from webos_gateway.state import Gateway, RequestInfo
from webos_gateway.upstream import DROP_RESPONSE
from webos_gateway.websocket import proxy_websocket

Scope = dict[str, Any]
SMALL_BODY = 64 * 1024
RETRY = (b"retry-after", str(RETRY_AFTER).encode())
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # retried on another instance when one dies mid-request


class ClientGone(Exception):
    """The client hung up mid-request."""


class ProxyMiddleware:
    def __init__(self, app: Any, *, gateway: Gateway) -> None:
        self.app = app
        self.gw = gateway

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        route = classify(scope["path"])
        if route is OWN:
            await self.own(scope, receive, send)
        elif kind == "http":
            await self.http(scope, receive, send, route)
        elif kind == "websocket":
            await proxy_websocket(self.gw, scope, receive, send, route)

    async def own(self, scope: Scope, receive: Any, send: Any) -> None:
        """The gateway's own endpoints (FastAPI), with the same policy headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = scope["path"] == "/api/docs"
        https = scope.get("scheme") == "https"

        async def send_with_policy(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.gw.headers.add(list(message.get("headers", [])), page=page, https=https)
            await send(message)

        await self.app(scope, receive, send_with_policy)

    async def http(self, scope: Scope, receive: Any, send: Any, route: Route) -> None:
        started = time.perf_counter()
        gw = self.gw
        req = gw.inspect(scope)
        status, user_id = 500, "-"
        try:
            gw.check_origin(scope, req)
            user = await gw.authenticate(scope, route, req)
            user_id = user.id if user else "-"
            await gw.check_limits(scope, route, user)
            limit = gw.body_limit(scope["path"])
            if limit and req.content_length is not None and req.content_length > limit:
                raise _too_large(limit)
            status = await self.forward(scope, receive, send, route, req, user, limit)
        except Refused as exc:
            status = exc.status
            await send_error(send, req, exc, gw.headers.add(list(req.response_headers), page=False, https=req.https))
        except ClientGone:
            status = 499
        finally:
            elapsed = time.perf_counter() - started
            gw.metrics.observe(route.label, scope["method"], status, elapsed)
            gw.access_log.write(scope["method"], scope["path"], status, elapsed, user_id, route.label, req)

    async def forward(self, scope: Scope, receive: Any, send: Any, route: Route, req: RequestInfo,
                      user: User | None, limit: int) -> int:
        gw = self.gw
        bases = await gw.live_upstreams(route)
        await gw.check_module_limit(route)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string")
        target = (raw_path[route.prefix_len:] or b"/").decode("latin-1")
        if query:
            target += "?" + query.decode("latin-1")
        body: Any = None
        streamed = False
        if req.has_body:
            if req.content_length is not None and req.content_length <= SMALL_BODY:
                body = await read_all(receive, limit)
            else:
                streamed = True
        sent = [0]
        for index, (base, instance) in enumerate(bases):
            data = stream_body(receive, limit, sent) if streamed else body
            with spans.upstream_call(scope["method"], base, target, route, req.headers) as (span, headers):
                try:
                    resp = await gw.pool.request(scope["method"], base, target, headers, data,
                                                 content_length=req.content_length, host=req.host)
                except UpstreamConnectError as exc:
                    spans.failed(span, "connect")
                    gw.metrics.upstream_error(route.label, "connect")
                    if instance is not None:
                        gw.table.mark_down(route.name, instance)
                    if index + 1 < len(bases) and sent[0] == 0:
                        continue
                    raise Refused(*gw.unavailable(route, str(exc))) from exc
                except UpstreamTimeout as exc:
                    spans.failed(span, "timeout")
                    gw.metrics.upstream_error(route.label, "timeout")
                    raise Refused(504, "upstream_timeout", f"{route.name} did not answer in time",
                                  {"upstream": route.name}) from exc
                except UpstreamError as exc:
                    spans.failed(span, "protocol")
                    gw.metrics.upstream_error(route.label, "protocol")
                    if instance is not None and scope["method"] in SAFE_METHODS and index + 1 < len(bases):
                        gw.table.mark_down(route.name, instance)  # it died mid-request: a read goes to the next
                        continue
                    raise Refused(502, "bad_gateway", f"{route.name} failed: {exc}",
                                  {"upstream": route.name}) from exc
                spans.answered(span, int(resp.status))
                try:
                    return await self.relay(resp, send, req, receive, watch=not streamed,
                                            page=route.kind == "shell", framed=route.is_view(scope["path"]))
                finally:
                    resp.release()
        raise Refused(*gw.unavailable(route, "no live instance"))

    async def relay(self, resp: Any, send: Any, req: RequestInfo, receive: Any, *, watch: bool, page: bool,
                    framed: bool = False) -> int:
        headers = [(k, v) for k, v in resp.headers if k not in DROP_RESPONSE]
        if resp.status == 503 and not any(k == b"retry-after" for k, _ in headers):
            headers.append(RETRY)  # an outage, whoever answered it: every 503 at the edge says when to retry
        headers += req.response_headers
        self.gw.headers.add(headers, page=page, https=req.https, framed=framed)
        length = resp.content_length
        if length is not None and length <= SMALL_BODY:
            try:
                data = await resp.read() if length else b""
            except UpstreamError as exc:  # it died mid-answer, before a byte went out: still ours to say
                raise Refused(502, "bad_gateway", f"the upstream closed mid-answer: {exc}") from exc
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return int(resp.status)
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        watcher = asyncio.create_task(_wait_disconnect(receive)) if watch else None
        try:
            async for chunk in resp.iter_chunks():
                if watcher is not None and watcher.done():
                    raise ClientGone
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            if watcher is not None:
                watcher.cancel()
        return int(resp.status)


async def _wait_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _too_large(limit: int) -> Refused:
    return Refused(413, "payload_too_large", f"Request body over {limit} bytes", {"limit": limit})


async def read_all(receive: Any, limit: int) -> bytes:
    parts = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit and size > limit:
            raise _too_large(limit)
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


async def stream_body(receive: Any, limit: int, sent: list[int]) -> Any:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        sent[0] += len(chunk)
        if limit and sent[0] > limit:
            raise _too_large(limit)
        if chunk:
            yield chunk
        if not message.get("more_body"):
            return


async def send_error(send: Any, req: RequestInfo, exc: Refused, extra: list[tuple[bytes, bytes]]) -> None:
    body = exc.body()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += exc.headers
    headers += extra
    with contextlib.suppress(Exception):
        await send({"type": "http.response.start", "status": exc.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
