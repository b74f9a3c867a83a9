"""`SourceServer`: a module host answering storage's calls to its data sources."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from webos_common.files.afs import DataSource, safe_path
from webos_common.files.remote import wire
from webos_common.http.errors import BadRequest, NotFound, Unavailable, WebOSError
from webos_common.modules.manifest import DataSourceEntry

IDLE = 60.0  # seconds an upload may wait for its next chunk before it is abandoned


@dataclass
class _Upload:
    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(maxsize=4))
    task: asyncio.Task[Any] | None = None
    timer: asyncio.TimerHandle | None = None


class SourceServer:
    def __init__(self, nc: NATS, module: str, instance: str, sources: Sequence[DataSource]) -> None:
        self.nc, self.module, self.instance = nc, module, instance
        self.sources = {source.id: source for source in sources}
        self._subs: list[Subscription] = []
        self._uploads: dict[str, _Upload] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def entries(self) -> list[DataSourceEntry]:
        """What the manifest announces: each source's id and capabilities."""
        return [wire.entry(sid, source.capabilities()) for sid, source in self.sources.items()]

    async def start(self) -> None:
        prefix = wire.subject_prefix(self.module)
        group = f"webos-afs-{self.module}"  # one replica answers each call
        self._subs = [await self.nc.subscribe(f"{prefix}.q.{sid}.*", queue=group, cb=self._spawn)
                      for sid in self.sources]
        if self._subs:
            self._subs.append(await self.nc.subscribe(f"{prefix}.s.{self.instance}.*", cb=self._chunk))
            await self.nc.flush()  # the server has the subscriptions before the manifest names them

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        for upload in list(self._uploads.values()):
            if upload.task:
                upload.task.cancel()
        for task in list(self._tasks):
            task.cancel()
        self._uploads.clear()

    # -- stateless operations --------------------------------------------------
    async def _spawn(self, msg: Msg) -> None:
        task = asyncio.create_task(self._answer(msg))  # one slow read must not hold the others up
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Msg) -> None:
        try:
            *_, source_id, op = msg.subject.split(".")
            source = self.sources.get(source_id)
            if source is None:
                raise NotFound(f"No data source {source_id} in module {self.module}", details={"source": source_id})
            args = json.loads((msg.headers or {}).get(wire.ARGS) or "{}")
            body, headers = await self._do(source, op, args, msg.data)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller, named
            if not isinstance(exc, WebOSError):  # the module's bug: its log says where
                logger.opt(exception=exc).error("data source call {} failed", msg.subject)
            await self._reply(msg, wire.error_to_wire(exc), {wire.ERROR: "1"})
            return
        await self._reply(msg, body, headers)

    async def _do(self, source: DataSource, op: str, args: dict[str, Any], data: bytes,
                  ) -> tuple[bytes, dict[str, str] | None]:
        path = safe_path(str(args.get("path", "")), allow_reserved=True)  # storage's trash lives in the source
        if op == "list":
            return _json([wire.meta_to_json(m) for m in await source.list_dir(path)]), None
        if op == "stat":
            return _json(wire.meta_to_json(await source.get_stat(path))), None
        if op == "read":
            offset, length = int(args.get("offset", 0)), min(int(args.get("length", wire.CHUNK)), wire.CHUNK)
            return b"".join([c async for c in source.open_file(path, offset=offset, length=length)]), None
        if op == "delete":
            await source.delete(path)
        elif op == "move":
            await source.move(path, safe_path(str(args.get("dst", "")), allow_reserved=True))
        elif op == "mkdir":
            await source.mkdir(path)
        elif op == "write":
            return _json({"subject": self._open_upload(source, path, args.get("content_type"))}), None
        else:
            raise BadRequest(f"Unknown data source operation {op!r}", details={"field": "op"})
        return b"", None

    # -- uploads -----------------------------------------------------------------
    def _open_upload(self, source: DataSource, path: str, content_type: str | None) -> str:
        session = secrets.token_hex(8)
        upload = _Upload()

        async def chunks() -> AsyncIterator[bytes]:
            while (chunk := await upload.queue.get()) is not None:
                yield chunk

        upload.task = asyncio.create_task(source.write_file(path, chunks(), content_type=content_type))
        self._uploads[session] = upload
        self._touch(session)
        return wire.session_subject(self.module, self.instance, session)

    def _touch(self, session: str) -> None:
        upload = self._uploads.get(session)
        if upload is None:
            return
        if upload.timer:
            upload.timer.cancel()
        upload.timer = asyncio.get_running_loop().call_later(IDLE, self._abandon, session)

    def _abandon(self, session: str) -> None:
        upload = self._uploads.pop(session, None)
        if upload is not None and upload.task:
            upload.task.cancel()
        if upload is not None and upload.timer:
            upload.timer.cancel()

    async def _chunk(self, msg: Msg) -> None:
        session = msg.subject.rsplit(".", 1)[-1]
        step = (msg.headers or {}).get(wire.ARGS, "chunk")
        upload = self._uploads.get(session)
        try:
            if upload is None or upload.task is None:
                raise Unavailable("This upload is unknown here (it ended, or its host restarted)")
            if step == "abort":
                self._abandon(session)
                return
            put: asyncio.Future[None] = asyncio.ensure_future(upload.queue.put(None if step == "commit" else msg.data))
            done, _ = await asyncio.wait({put, upload.task}, timeout=IDLE, return_when=asyncio.FIRST_COMPLETED)
            if put not in done:
                put.cancel()
            if step == "commit" or upload.task.done():
                self._abandon_timer(session)
                meta = await asyncio.wait_for(upload.task, timeout=IDLE)
                self._uploads.pop(session, None)
                await self._reply(msg, _json(wire.meta_to_json(meta)), None)
                return
            self._touch(session)
            await self._reply(msg, b"", None)
        except Exception as exc:  # noqa: BLE001 - the writer's error, sent back to storage
            if not isinstance(exc, WebOSError):
                logger.opt(exception=exc).error("upload {} failed", session)
            self._abandon(session)
            await self._reply(msg, wire.error_to_wire(exc), {wire.ERROR: "1"})

    def _abandon_timer(self, session: str) -> None:
        upload = self._uploads.get(session)
        if upload and upload.timer:
            upload.timer.cancel()

    async def _reply(self, msg: Msg, body: bytes, headers: dict[str, str] | None) -> None:
        if msg.reply:
            with contextlib.suppress(Exception):  # the caller gave up: nobody to tell
                await self.nc.publish(msg.reply, body, headers=headers)


def _json(body: Any) -> bytes:
    return json.dumps(body, default=str).encode()
