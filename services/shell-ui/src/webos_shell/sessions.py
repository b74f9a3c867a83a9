"""People's sessions (`app.storage.user`: their tokens, theme, recent palette items…) in one
NATS KV bucket shared by every shell replica, so any replica serves any request.

One key per browser session (NiceGUI's session id, from its signed cookie); the
value is the session's dict as JSON, sealed with the platform's keyring
(`webos_common.security.keyring`, under `WEBOS_SHELL_SESSION_KEY`, or the shell's
storage secret every replica shares anyway) and bound to its key, so neither the
bucket nor NATS ever holds a token in clear, and a value copied under another key
does not open. The bucket keeps a value for a refresh token's lifetime after its
last write (`webos_common.infra.provision.SHELL_SESSION_TTL`); only the shell's
credential may read or write it.

A replica keeps the sessions its pages use in memory (`SessionDict`, NiceGUI's
`PersistentDict`) and one watcher per process (not per session) brings every
other replica's writes into them. A write is per key and compare-and-set: the
keys this replica changed since it last saw the bucket are applied to the latest
value and written only if nobody wrote in between (else read again and retried),
so a theme saved on one replica never writes back the refresh token another
replica just rotated; a write that fails (NATS restarting) is kept and written again in
the background until it lands. Before a refresh the caller reads the latest value
(`SessionDict.sync`): a refresh on another replica is seen before the old refresh
token is used again (auth takes a reused one for theft).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loguru import logger
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import APIError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE, KeyValue
from nicegui.persistence import PersistentDict

from webos_common.bus.streams import open_key_value
from webos_common.infra.provision import shell_sessions_bucket
from webos_common.security.keyring import Keyring
from webos_common.security.nats_permissions import SHELL_SESSIONS_BUCKET

CONTEXT = b"webos-shell-sessions"  # the keyring's associated data: a sealed session opens as nothing else
WRONG_LAST = (10071, 10164)  # JetStream: the key's last revision is not the one expected
ATTEMPTS = 20
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds before writing a session again after a failed write
_NONE = object()


def _plain(data: Any) -> dict[str, Any]:
    """A JSON copy (NiceGUI's observable collections become plain ones)."""
    return dict(json.loads(json.dumps(data)))


class SharedSessions:
    """The bucket, the keyring, the sessions this process holds, and their one watcher."""

    def __init__(self, js: JetStreamContext, kv: KeyValue, keyring: Keyring, *,
                 bucket: str = SHELL_SESSIONS_BUCKET, legacy: Callable[[str], Path] | None = None) -> None:
        self.js, self.kv, self.keyring, self.bucket = js, kv, keyring, bucket
        self.legacy = legacy  # where this process kept a session in a file before (taken over once)
        self.held: dict[str, SessionDict] = {}
        self.writer = uuid.uuid4().hex  # this process: its own writes coming back are not news
        self._prefix = f"$KV.{bucket}."
        self._sub: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._retries: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, js: JetStreamContext, keyring: Keyring, *, bucket: str = SHELL_SESSIONS_BUCKET,
                   create: bool = False, ttl: float | None = None,
                   legacy: Callable[[str], Path] | None = None) -> SharedSessions:
        """The provisioned bucket (created when missing if `create`: tests) with its watcher started."""
        config = shell_sessions_bucket(bucket, ttl) if ttl else shell_sessions_bucket(bucket)
        sessions = cls(js, await open_key_value(js, config, create=create), keyring, bucket=bucket, legacy=legacy)
        await sessions.start()
        return sessions

    async def start(self) -> None:
        """One watcher for the whole bucket, from now on (an ordered consumer: it resumes after a
        reconnect); what a held session missed before it was loaded, `SessionDict.initialize` read."""
        self._sub = await self.js.subscribe(f"{self._prefix}>", stream=f"KV_{self.bucket}", cb=self._on_change,
                                            ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)

    async def close(self) -> None:
        for retry in list(self._retries):
            retry.cancel()
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    def session(self, session_id: str) -> SessionDict:
        """A new (not yet loaded) dict for NiceGUI's user storage of `session_id`."""
        return SessionDict(self, session_id)

    # -- sealing --------------------------------------------------------------------------------
    def seal(self, key: str, data: dict[str, Any]) -> bytes:
        return self.keyring.encrypt({"key": key, "writer": self.writer, "data": data}).encode()

    def unseal(self, key: str, raw: bytes) -> tuple[str, dict[str, Any]] | None:
        """(writer, data), or None for a value that does not open, or was sealed under another key."""
        try:
            body = self.keyring.decrypt(raw.decode())
        except Exception as exc:  # noqa: BLE001 - another secret, or not ours: treated as no session
            logger.warning("shell session {} does not open ({}): treated as signed out", key, exc)
            return None
        if not isinstance(body, dict) or body.get("key") != key or not isinstance(body.get("data"), dict):
            logger.warning("shell session {} holds a value sealed for another key: treated as signed out", key)
            return None
        return str(body.get("writer")), body["data"]

    async def latest(self, key: str) -> tuple[int, dict[str, Any] | None]:
        """The key's last revision and its value (None: deleted, expired or never written)."""
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError as exc:
            return (exc.entry.revision or 0 if exc.entry is not None else 0), None
        opened = self.unseal(key, entry.value or b"")
        return entry.revision or 0, opened[1] if opened else None

    async def write(self, key: str, data: dict[str, Any], last: int) -> int | None:
        """Write `data` (delete when empty) if `last` is still the key's revision; its new revision,
        or None when another write came first."""
        try:
            if data:
                return int(await self.kv.update(key, self.seal(key, data), last=last))
            if last:
                await self.kv.delete(key, last=last)
                return last  # the marker's own revision is not returned: the next write reads it again
            return 0
        except KeyWrongLastSequenceError:
            return None
        except APIError as exc:  # a delete's refusal is not translated by nats-py
            if getattr(exc, "err_code", None) in WRONG_LAST:
                return None
            raise

    # -- the watcher ------------------------------------------------------------------------------
    async def _on_change(self, msg: Msg) -> None:
        key = msg.subject[len(self._prefix):]
        held = self.held.get(key)
        if held is None:
            return
        revision = msg.metadata.sequence.stream
        op = (msg.headers or {}).get(KV_OP) or (msg.headers or {}).get("Nats-Marker-Reason")
        if op in (KV_DEL, KV_PURGE, "MaxAge", "Purge", "Remove"):
            held.remote(revision, {}, writer=None)
            return
        opened = self.unseal(key, msg.data)
        if opened is not None:
            held.remote(revision, opened[1], writer=opened[0])

    def run(self, coro: Any, name: str, *, waits: bool = True) -> None:
        """A task of this process's sessions; `close` waits for it, or (`waits=False`: a retry
        sleeping out an outage) cancels it."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        held = self._tasks if waits else self._retries
        held.add(task)
        task.add_done_callback(held.discard)


class SessionDict(PersistentDict):
    """One person's `app.storage.user`, kept in step with the bucket (see the module's docstring)."""

    def __init__(self, sessions: SharedSessions, key: str) -> None:
        self.sessions, self.key = sessions, key
        self.revision = 0  # the bucket's revision `synced` is
        self.synced: dict[str, Any] = {}  # the value as last read from or written to the bucket
        self._applying = False
        self._dirty = False
        self._flushing: asyncio.Task[None] | None = None
        self._missed = 0  # a revision the watcher brought while a write was under way
        self._failures = 0  # writes failed in a row (written again in the background: `_again`)
        super().__init__(data={}, on_change=self._changed)

    async def initialize(self) -> None:
        self.sessions.held[self.key] = self
        try:
            await self.sync()
            if not self.revision and self.sessions.legacy is not None:
                await self._take_over(self.sessions.legacy(self.key))
        except Exception:  # noqa: BLE001 - NATS down: an empty session (signed out), as NiceGUI does
            logger.exception("could not load shell session {}", self.key)

    async def _take_over(self, path: Path) -> None:
        """A session this replica kept in a file before sessions were shared: into the bucket (sealed),
        and the file (its tokens in clear) removed, so nobody is signed out by the upgrade."""
        try:
            data = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and data:
            self.update(data)
            await self.flushed()
        if self.revision or not data:  # in the bucket now, or nothing to take
            await asyncio.to_thread(path.unlink, missing_ok=True)

    def initialize_sync(self) -> None:  # NiceGUI uses it for storages made outside the event loop: not users
        raise NotImplementedError("a shell session is loaded with `await initialize()`")

    async def close(self) -> None:
        if self.sessions.held.get(self.key) is self:
            del self.sessions.held[self.key]
        if self._flushing is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._flushing)

    @property
    def pending(self) -> bool:
        return self._dirty or self.pending_flush

    async def sync(self) -> None:
        """Bring in the bucket's latest value now (a write under way does it itself when done)."""
        if self.pending:
            await self.flushed()
            return
        revision, data = await self.sessions.latest(self.key)
        self.remote(revision, data or {}, writer=None)

    async def flushed(self) -> None:
        """Wait until every change made here is in the bucket."""
        while self._flushing is not None and not self._flushing.done():
            await asyncio.shield(self._flushing)

    def remote(self, revision: int, data: dict[str, Any], *, writer: str | None) -> None:
        """Another replica's write (or the bucket's latest): applied when newer than what is held."""
        if revision <= self.revision:
            return
        if self.pending:
            self._missed = max(self._missed, revision)  # the write under way reads it when done
            return
        if writer == self.sessions.writer and data == self.synced:
            self.revision = revision  # this process's own write coming back
            return
        self.revision, self.synced = revision, data
        self._replace(data)

    def _replace(self, data: dict[str, Any]) -> None:
        self._applying = True
        try:
            for gone in set(self) - data.keys():
                del self[gone]
            self.update({k: v for k, v in data.items() if self.get(k) != v})
        finally:
            self._applying = False

    def _changed(self) -> None:
        if self._applying:
            return
        self._dirty = True
        if self._flushing is None or self._flushing.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # changed outside the loop: written with the next change made in it
            self._flushing = loop.create_task(self._flush(), name=f"shell-session-{self.key}")

    async def _flush(self) -> None:
        try:
            while self._dirty:
                self._dirty = False
                await self._write(_plain(self))
            if self._missed > self.revision:
                self._missed = 0
                revision, data = await self.sessions.latest(self.key)
                self.remote(revision, data or {}, writer=None)
        except Exception:  # noqa: BLE001 - kept in memory and written again in the background
            self._dirty = True  # still to write: meanwhile another replica's writes wait for the merge
            self._failures += 1
            if self._failures == 1:  # once per outage, not once per attempt
                logger.exception("could not save shell session {}; trying again in the background", self.key)
            self.sessions.run(self._again(), f"shell-session-retry-{self.key}", waits=False)
            return
        if self._failures:
            logger.info("shell session {} saved after {} failed attempts", self.key, self._failures)
            self._failures = 0

    async def _again(self) -> None:
        """After a failed write (NATS restarting, a leader election), the next attempt, backing off
        to every RETRY_MAX s while the session is held: a refreshed token pair must reach the bucket
        before another replica uses the old refresh token (auth would take the reuse for theft),
        whether or not the person changes anything else meanwhile."""
        await asyncio.sleep(min(RETRY_FIRST * 2 ** (self._failures - 1), RETRY_MAX))
        if self.sessions.held.get(self.key) is self and self._dirty and not self.pending_flush:
            self._flushing = asyncio.get_running_loop().create_task(self._flush(), name=f"shell-session-{self.key}")

    @property
    def pending_flush(self) -> bool:
        return self._flushing is not None and not self._flushing.done()

    def _take_theirs(self, local: dict[str, Any], merged: dict[str, Any], *, mine: set[str]) -> None:
        """The keys others wrote that came in with the merge, where this dict has not changed them since."""
        theirs = {k for k in local.keys() | merged.keys()
                  if k not in mine and local.get(k, _NONE) != merged.get(k, _NONE)}
        self._applying = True
        try:
            for k in theirs:
                if self.get(k, _NONE) != local.get(k, _NONE):
                    continue  # changed here meanwhile: the next write merges it
                if k in merged:
                    self[k] = merged[k]
                else:
                    del self[k]
        finally:
            self._applying = False

    async def _write(self, local: dict[str, Any]) -> None:
        """Apply what changed here since `synced` to the bucket's latest value, compare-and-set."""
        changed = {k: v for k, v in local.items() if self.synced.get(k, _NONE) != v}
        removed = set(self.synced) - local.keys()
        base, revision = self.synced, self.revision
        for _ in range(ATTEMPTS):
            merged = {k: v for k, v in base.items() if k not in removed} | changed
            written = await self.sessions.write(self.key, merged, revision)
            if written is not None:
                self.revision, self.synced = written, merged
                self._take_theirs(local, merged, mine=changed.keys() | removed)
                return
            revision, latest = await self.sessions.latest(self.key)
            base = latest or {}
        raise RuntimeError(f"shell session {self.key}: {ATTEMPTS} writes in a row lost to other replicas")
