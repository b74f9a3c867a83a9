"""Publishing to JetStream and waiting for the stream's acknowledgement, lean.

nats-py's `publish_async` costs about a third of an emitted event's CPU:
every header is checked with a regex and re-encoded, each publish takes a
semaphore, a NUID plus random token, a future with a done-callback, and the
PubAck is parsed into a dataclass; and an API error in its ack callback
raises instead of failing the future, which nothing times out. The bus knows
its headers are well formed (it wrote them), so this sends a ready `HPUB`
(`compat.nats.send_hpub`, nats-py's private send path: `bench/README.md`
gives the figures with and without) and matches acks by a counter:

* one reply subscription `<inbox>.<n>` per connection, one dict of futures;
* a PubAck is read for `duplicate` and `error` only;
* timeouts by one sweeper instead of a timer per publish (deadlines are in
  publish order because the timeout is fixed);
* "no responders" (no stream takes the subject) fails at once;
* a publish the server refuses (`Permissions Violation for Publish to
  "<subject>"`, an asynchronous `-ERR` on the connection, not an answer to
  the publish) fails with `PublishRefused` as soon as that error arrives,
  and a publish whose acknowledgement is overdue fails with `PublishRefused`
  too when its subject was refused after it was sent: a `TimeoutError` is
  left for a NATS that is slow or away.

The future resolves to True when the stream stored the message, False when
it dropped it as a duplicate (same `Nats-Msg-Id` within the window).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import deque

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import ConnectionClosedError
from nats.js.errors import APIError, NoStreamResponseError

from webos_common.compat.nats import listen_errors, send_hpub
from webos_common.http.lifecycle import cancel_and_wait

_DUPLICATE = re.compile(rb'"duplicate":\s*true')  # the server writes `"duplicate": true`
_ERROR = b'"error"'
_REFUSED = re.compile(r'permissions violation for publish to "?([^"\s\']+)', re.IGNORECASE)


class PublishRefused(Exception):
    """The server refused this connection the subject (its permissions): sending again will not help."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"NATS refused the subject {subject}: {reason}")
        self.subject = subject
        self.reason = reason


def _api_error(data: bytes) -> Exception:
    """nats-py's error class for a JetStream API error answer (its `from_error` raises it)."""
    try:
        error = json.loads(data)["error"]
        APIError.from_error(error)
    except APIError as exc:
        return exc
    except (ValueError, KeyError, TypeError):
        pass
    return APIError(description=data[:200].decode(errors="replace"))


class AckPublisher:
    def __init__(self, nc: NATS, *, timeout: float) -> None:
        self.nc = nc
        self.timeout = timeout
        self._futures: dict[bytes, asyncio.Future[bool]] = {}
        self._deadlines: deque[tuple[float, bytes, str]] = deque()
        self._refused: dict[str, tuple[float, str]] = {}  # subject: when the server last refused it, why
        self._listening = False
        self._seq = 0
        self._prefix = b""
        self._ready: asyncio.Lock | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._sub: Subscription | None = None

    async def _start(self) -> None:
        if self._ready is None:
            self._ready = asyncio.Lock()
        async with self._ready:
            if self._prefix:
                return
            if not self._listening:
                listen_errors(self.nc, self._on_error)
                self._listening = True
            prefix = f"{self.nc.new_inbox()}."
            self._sub = await self.nc.subscribe(f"{prefix}*", cb=self._on_ack)
            self._sweeper = asyncio.create_task(self._sweep(), name="bus:ack-timeouts")
            self._prefix = prefix.encode()

    async def publish(self, subject: str, payload: bytes, headers: bytes) -> asyncio.Future[bool]:
        """Send one message; the returned future settles on the stream's answer.

        `headers` is a complete NATS header block (`NATS/1.0\\r\\n…\\r\\n\\r\\n`)."""
        if not self._prefix:
            await self._start()
        self._seq += 1
        token = str(self._seq).encode()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._futures[token] = future  # before sending: the ack may come back while the send awaits
        entry = (time.monotonic() + self.timeout, token, subject)
        self._deadlines.append(entry)  # before sending too: a refusal may come while the send awaits
        try:
            await send_hpub(self.nc, subject, self._prefix + token, headers, payload)
        except BaseException:
            self._futures.pop(token, None)
            with contextlib.suppress(ValueError):
                self._deadlines.remove(entry)
            raise
        return future

    async def _on_error(self, exc: Exception) -> None:
        """A refused subject fails the publishes to it that wait for their answer."""
        found = _REFUSED.search(str(exc))
        if found is None:
            return
        subject, reason = found.group(1), str(exc).removeprefix("nats: ")
        self._refused[subject] = (time.monotonic(), reason)
        for _, token, sent_to in self._deadlines:
            future = self._futures.get(token) if sent_to == subject else None
            if future is not None and not future.done():
                del self._futures[token]
                future.set_exception(PublishRefused(subject, reason))

    async def _on_ack(self, msg: Msg) -> None:
        token = msg.subject.encode()[len(self._prefix):]
        future = self._futures.pop(token, None)
        if future is None or future.done():
            return
        data = msg.data
        if msg.headers and msg.headers.get("Status") == "503":
            future.set_exception(NoStreamResponseError())
        elif _ERROR in data:
            future.set_exception(_api_error(data))
        else:
            future.set_result(_DUPLICATE.search(data) is None)

    async def _sweep(self) -> None:
        """Fail the publishes whose acknowledgement is overdue."""
        interval = min(max(self.timeout / 4, 0.01), 0.5)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            while self._deadlines and self._deadlines[0][0] <= now:
                deadline, token, subject = self._deadlines.popleft()
                future = self._futures.pop(token, None)
                if future is not None and not future.done():
                    future.set_exception(self._overdue(subject, deadline - self.timeout))

    def _overdue(self, subject: str, sent_at: float) -> Exception:
        """Refused if the server refused the subject since the publish was sent, else a timeout."""
        refused = self._refused.get(subject)
        if refused is not None and refused[0] >= sent_at:
            return PublishRefused(subject, refused[1])
        return TimeoutError(f"no acknowledgement from JetStream in {self.timeout} s")

    async def close(self) -> None:
        """Stop waiting: pending publishes fail; a later publish starts over."""
        self._prefix = b""
        if self._sub is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):  # the connection is going away anyway
                await self._sub.unsubscribe()
        self._sub = None
        if self._sweeper is not None:
            await cancel_and_wait(self._sweeper, what="bus ack sweeper")
            self._sweeper = None
        for future in self._futures.values():
            if not future.done():
                future.set_exception(ConnectionClosedError())
        self._futures.clear()
