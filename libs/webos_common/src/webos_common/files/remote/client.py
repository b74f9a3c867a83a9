"""`RemoteDataSource`: storage's side of a module's data source (a `DataSource`)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from webos_common.files.afs import ByteStream, Capabilities, FileMetadata
from webos_common.files.remote import wire
from webos_common.http.errors import Unavailable
from webos_common.modules.manifest import DataSourceEntry


class RemoteDataSource:
    """Each call is one NATS request to the module's hosts; a module with no live host
    answers at once with a 503 (no responders), a stuck one after `timeout`."""

    def __init__(self, nc: NATS, module: str, info: DataSourceEntry, *, timeout: float = 15.0) -> None:
        self.nc, self.module, self.info, self.timeout = nc, module, info, timeout
        self.id = info.id

    def capabilities(self) -> Capabilities:
        return wire.capabilities(self.info)

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def _request(self, subject: str, payload: bytes = b"", args: Any = None) -> Msg:
        headers = {wire.ARGS: args if isinstance(args, str) else json.dumps(args or {})}
        try:
            msg = await self.nc.request(subject, payload, timeout=self.timeout, headers=headers)
        except nats.errors.NoRespondersError as exc:
            raise Unavailable(f"The data source {self.id} is not available (module {self.module} has no live host)",
                              details={"source": self.id, "module": self.module}) from exc
        except (nats.errors.TimeoutError, TimeoutError) as exc:
            raise Unavailable(f"The data source {self.id} did not answer in time",
                              details={"source": self.id, "module": self.module}) from exc
        if (msg.headers or {}).get(wire.ERROR):
            raise wire.error_from_wire(msg.data)
        return msg

    async def _call(self, op: str, payload: bytes = b"", **args: Any) -> Msg:
        return await self._request(wire.op_subject(self.module, self.id, op), payload, args)

    async def list_dir(self, path: str) -> list[FileMetadata]:
        return [wire.meta_from_json(m) for m in json.loads((await self._call("list", path=path)).data)]

    async def get_stat(self, path: str) -> FileMetadata:
        return wire.meta_from_json(json.loads((await self._call("stat", path=path)).data))

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        remaining = length
        while remaining is None or remaining > 0:
            want = wire.CHUNK if remaining is None else min(wire.CHUNK, remaining)
            data = (await self._call("read", path=path, offset=offset, length=want)).data
            if data:
                yield data
            offset += len(data)
            if remaining is not None:
                remaining -= len(data)
            if len(data) < want:
                return

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        subject = str(json.loads((await self._call("write", path=path, content_type=content_type)).data)["subject"])
        try:
            buffer = b""
            async for chunk in chunks:
                buffer += chunk
                while len(buffer) >= wire.CHUNK:
                    await self._request(subject, buffer[:wire.CHUNK], "chunk")
                    buffer = buffer[wire.CHUNK:]
            if buffer:
                await self._request(subject, buffer, "chunk")
            return wire.meta_from_json(json.loads((await self._request(subject, b"", "commit")).data))
        except BaseException:
            with contextlib.suppress(Exception):  # else the host abandons the idle upload on its own
                await self.nc.publish(subject, b"", headers={wire.ARGS: "abort"})
            raise

    async def delete(self, path: str) -> None:
        await self._call("delete", path=path)

    async def move(self, src: str, dst: str) -> None:
        await self._call("move", path=src, dst=dst)

    async def mkdir(self, path: str) -> None:
        await self._call("mkdir", path=path)
