"""A continuous pull from a durable JetStream consumer.

nats-py's `fetch(batch)` holds the first message back until the whole batch
arrived or the request expired, which adds up to `expires` of latency when
traffic is light. This keeps pull requests outstanding instead and hands out
each message as soon as it lands, topping up when half the credit is spent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

HEARTBEAT = "100"
TIMEOUT = "408"


def _raise_if_cancelled() -> None:
    """Re-raise a cancel that got lost: nats-py's publish path swallows CancelledError
    (`Client._flush_pending`), so a consumer stopped while it asks for messages or acks
    one would otherwise go on pulling forever (and `asyncio.timeout` then reports the
    lost cancel as a plain TimeoutError)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def pull_messages(nc: NATS, *, stream: str, durable: str, batch: int = 64,
                        expires: float = 5.0) -> AsyncIterator[Msg]:
    inbox = nc.new_inbox()
    arrived: asyncio.Queue[Msg] = asyncio.Queue()

    async def on_msg(msg: Msg) -> None:
        arrived.put_nowait(msg)

    sub = await nc.subscribe(inbox, cb=on_msg, pending_msgs_limit=max(batch * 4, 1024))
    request = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
    outstanding = 0
    try:
        while True:
            _raise_if_cancelled()  # lost while the caller handled (and acked) the last message
            if outstanding <= batch // 2:
                want = batch - outstanding
                body = {"batch": want, "expires": int(expires * 1e9)}
                await nc.publish(request, json.dumps(body).encode(), reply=inbox)
                _raise_if_cancelled()
                outstanding += want
            if arrived.empty():
                try:
                    async with asyncio.timeout(expires + 1.0):
                        msg = await arrived.get()
                except TimeoutError:  # lost requests (reconnect): start over
                    _raise_if_cancelled()
                    outstanding = 0
                    continue
            else:  # a burst: no suspension, so the acks go out together
                msg = arrived.get_nowait()
            status = JetStreamContext.is_status_msg(msg)
            if status is None:
                outstanding -= 1
                yield msg
            elif status == HEARTBEAT:
                continue
            elif status == TIMEOUT:
                pending = (msg.headers or {}).get("Nats-Pending-Messages")
                outstanding = max(0, outstanding - int(pending)) if pending else 0
            else:  # 409 and friends: the request is gone; back off a little
                outstanding = 0
                await asyncio.sleep(0.1)
    finally:
        await sub.unsubscribe()
