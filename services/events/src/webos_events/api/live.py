"""GET /ws (WebSocket): the signed-in user's notifications and task progress, live, and
`module:changed` (`{"module": …}`) when a record they may read changes (`webos_common.bus.live`).

The token comes from `?token=` or the `access_token` cookie (browsers cannot
set headers on a WebSocket), verified like every other request.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from webos_common.http.errors import WebOSError
from webos_common.http.service import ServiceResources

router = APIRouter(tags=["live push"])


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    resources: ServiceResources = websocket.app.state.resources
    token = websocket.query_params.get("token") or websocket.cookies.get("access_token")
    auth = websocket.headers.get("authorization", "")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    if not token or resources.verifier is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="sign-in required")
        return
    try:
        user = await resources.verifier.verify(token)
    except WebOSError:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid token")
        return
    if not user.has_permission("events.read"):  # an API key without the scope
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="missing permission events.read")
        return
    hub = websocket.app.state.live
    queue = hub.connect(user)
    await websocket.accept()
    await websocket.send_json({"type": "hello", "data": {"user_id": user.id}})
    receiver = asyncio.create_task(_drain_client(websocket))
    try:
        while not receiver.done():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                await websocket.send_json(getter.result())
            else:
                getter.cancel()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.disconnect(user.id, queue)
        receiver.cancel()
        with contextlib.suppress(BaseException):
            await receiver


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
