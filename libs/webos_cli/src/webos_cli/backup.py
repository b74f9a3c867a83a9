"""`webos backup` / `webos restore`: one archive holding a platform's MongoDB
collections (documents as BSON, with their indexes), its JetStream streams —
the KV buckets (module registry, schedules, task records) are streams too —
with configuration and every message, and the files of AFS sources: local folders
and S3 buckets (every object under the source's prefix).

`manifest.json` lists every member with its sha256; restore checks them all
before it writes anything, and restores only into an empty platform (no
document in the target collections, no stream of the same name), so a
restore never merges into live data.

Both directions stream: a member is written through a spooled temporary file
(hashed on the way) and read back member by member, so memory stays flat
whatever the size of the collections and files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tarfile
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import bson
from nats.aio.client import Client as NATS
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from pymongo import AsyncMongoClient

from webos_cli import buckets
from webos_cli.buckets import Bucket

FORMAT = "webos-backup/1"
Progress = Callable[[str, int], None]  # (what, how many more) — the CLI draws a bar from it


class BackupError(RuntimeError):
    """The archive is unreadable, fails its checksums, or the target is not empty."""


CHUNK = 1 << 20
SPOOL = 8 << 20  # a member larger than this goes to a temporary file beside the archive
BATCH = 1000  # documents per insert on restore


def _noop(_: str, __: int) -> None:
    return None


class _Writer:
    """Adds members to the archive from chunks, hashing them on the way."""

    def __init__(self, tar: tarfile.TarFile, spool_dir: Path) -> None:
        self.tar, self.spool_dir = tar, spool_dir
        self.members: dict[str, str] = {}

    async def add(self, name: str, chunks: bytes | Iterable[bytes] | AsyncIterator[bytes]) -> None:
        with tempfile.SpooledTemporaryFile(SPOOL, dir=str(self.spool_dir)) as spool:
            digest = hashlib.sha256()
            async for chunk in _chunks(chunks):
                digest.update(chunk)
                spool.write(chunk)
            self._add_spooled(name, spool, digest)

    def _add_spooled(self, name: str, spool: IO[bytes], digest: Any) -> None:
        info = tarfile.TarInfo(name)
        info.size = spool.tell()
        info.mtime = int(datetime.now(UTC).timestamp())
        spool.seek(0)
        self.tar.addfile(info, spool)
        self.members[name] = digest.hexdigest()


async def _chunks(source: bytes | Iterable[bytes] | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if isinstance(source, bytes):
        yield source
    elif isinstance(source, AsyncIterator):
        async for chunk in source:
            yield chunk
    else:
        for chunk in source:
            yield chunk


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


async def _documents(cursor: Any, counted: list[int]) -> AsyncIterator[bytes]:
    async for doc in cursor:
        counted[0] += 1
        yield bson.encode(doc)


async def _messages(js: Any, stream: str, first: int, last: int, counted: list[int]) -> AsyncIterator[bytes]:
    for seq in range(first, last + 1):
        try:
            msg = await js.get_msg(stream, seq)
        except NotFoundError:  # deleted, purged or expired in between
            continue
        line = json.dumps({"subject": msg.subject, "headers": msg.headers or {},
                           "data": base64.b64encode(msg.data or b"").decode()})
        yield (line if not counted[0] else "\n" + line).encode()
        counted[0] += 1


async def backup(archive: Path, *, mongo: AsyncMongoClient[Any], db_name: str, nc: NATS,
                 files: dict[str, Path] | None = None, s3: dict[str, Bucket] | None = None,
                 progress: Progress = _noop) -> dict[str, Any]:
    """Write the archive; return its manifest. `files`: local sources' folders by source id;
    `s3`: S3 sources' buckets by source id."""
    counts: dict[str, Any] = {"collections": {}, "streams": {}, "files": {}, "s3": {}}
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        out = _Writer(tar, archive.parent)
        db = mongo[db_name]
        for name in sorted(await db.list_collection_names()):
            if name.startswith("system."):
                continue
            counted = [0]
            await out.add(f"mongo/{name}.bson", _documents(db[name].find({}), counted))
            indexes = [ix async for ix in await db[name].list_indexes()]
            await out.add(f"mongo/{name}.indexes.json", json.dumps([dict(ix) for ix in indexes], default=str).encode())
            counts["collections"][name] = counted[0]
            progress(f"mongo {name}", counted[0])
        js = nc.jetstream()
        for info in await js.streams_info():
            config, stream = info.config, info.config.name or ""
            counted = [0]
            await out.add(f"jetstream/{stream}.config.json", json.dumps(config.as_dict()).encode())
            if info.state.messages:
                await out.add(f"jetstream/{stream}.jsonl",
                                    _messages(js, stream, info.state.first_seq, info.state.last_seq, counted))
            else:
                await out.add(f"jetstream/{stream}.jsonl", b"")
            counts["streams"][stream] = counted[0]
            progress(f"stream {stream}", counted[0])
        for source, root in (files or {}).items():
            paths = sorted(p for p in root.rglob("*") if p.is_file())
            for path in paths:
                await out.add(f"files/{source}/{path.relative_to(root).as_posix()}", _read_chunks(path))
            counts["files"][source] = len(paths)
            progress(f"files {source}", len(paths))
        for source, where in (s3 or {}).items():
            async with buckets.client(where) as client:
                found = [key for key in await buckets.keys(client, where) if where.relative(key)]
                for key in found:
                    await out.add(f"s3/{source}/{where.relative(key)}", buckets.read_chunks(client, where, key))
                    progress(f"s3 {source}", 1)
            counts["s3"][source] = len(found)
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "database": db_name,
                    "counts": counts, "sha256": out.members}
        await out.add("manifest.json", json.dumps(manifest, indent=1).encode())
    return manifest


def _members(archive: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """Each file member in archive order, as a stream to read before the next one."""
    try:
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if member.isfile():
                    yield member.name, tar.extractfile(member)  # type: ignore[misc]
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{archive}: not a readable backup: {exc}") from exc


def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest, after every member was checked against its sha256 (BackupError otherwise)."""
    digests: dict[str, str] = {}
    manifest: dict[str, Any] | None = None
    for name, stream in _members(archive):
        if name == "manifest.json":
            manifest = json.loads(stream.read())
            continue
        digest = hashlib.sha256()
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
        digests[name] = digest.hexdigest()
    if manifest is None:
        raise BackupError(f"{archive}: no manifest.json")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: format {manifest.get('format')!r}, expected {FORMAT}")
    expected: dict[str, str] = manifest["sha256"]
    bad = sorted(n for n, digest in expected.items() if n != "manifest.json" and digests.get(n) != digest)
    if bad:
        raise BackupError(f"{archive}: checksum mismatch or missing: {', '.join(bad[:10])}")
    return manifest


async def restore(archive: Path, *, mongo: AsyncMongoClient[Any], db_name: str, nc: NATS,
                  files: dict[str, Path] | None = None, s3: dict[str, Bucket] | None = None,
                  progress: Progress = _noop, replace: bool = False) -> dict[str, Any]:
    """Restore the archive into an empty platform; return its manifest. `replace`: first drop
    the collections, delete the streams and empty the buckets the archive holds (a freshly
    started platform has created some of them already)."""
    manifest = read_manifest(archive)
    async with AsyncExitStack() as stack:
        clients = {source: await stack.enter_async_context(buckets.client(where))
                   for source, where in (s3 or {}).items() if source in manifest["counts"].get("s3", {})}
        targets = {s: (w, clients[s]) for s, w in (s3 or {}).items() if s in clients}
        await _make_room(manifest, mongo[db_name], nc.jetstream(), targets, replace=replace)
        restorer = _Restorer(mongo[db_name], nc.jetstream(), files or {}, targets, progress)
        for name, stream in _members(archive):
            await restorer.member(name, stream)
    return manifest


async def _make_room(manifest: dict[str, Any], db: Any, js: Any, s3: dict[str, tuple[Bucket, Any]], *,
                     replace: bool) -> None:
    collections = list(manifest["counts"]["collections"])
    streams = list(manifest["counts"]["streams"])
    existing = {i.config.name for i in await js.streams_info()}
    if replace:
        for name in collections:
            await db[name].drop()
        for stream in streams:
            if stream in existing:
                await js.delete_stream(stream)
        existing -= set(streams)
    busy = [c for c in collections if await db[c].estimated_document_count()]
    for source, (where, client) in s3.items():
        if await buckets.prepare(client, where, replace=replace):
            busy.append(f"s3 source {source} (s3://{where.bucket}/{where.prefix})")
    busy += [f"stream {s}" for s in streams if s in existing]
    if busy:
        more = f" and {len(busy) - 10} more" if len(busy) > 10 else ""
        raise BackupError("restore needs an empty platform (or --replace); already holds: "
                          f"{', '.join(busy[:10])}{more}")


class _Restorer:
    """Writes one archive member at a time where it belongs."""

    def __init__(self, db: Any, js: Any, files: dict[str, Path], s3: dict[str, tuple[Bucket, Any]],
                 progress: Progress) -> None:
        self.db, self.js, self.files, self.s3, self.progress = db, js, files, s3, progress

    async def member(self, name: str, stream: IO[bytes]) -> None:
        kind, _, rest = name.partition("/")
        if kind == "mongo" and rest.endswith(".indexes.json"):
            await self._indexes(rest.removesuffix(".indexes.json"), json.loads(stream.read()))
        elif kind == "mongo" and rest.endswith(".bson"):
            await self._documents(rest.removesuffix(".bson"), stream)
        elif kind == "jetstream" and rest.endswith(".config.json"):
            await self.js.add_stream(StreamConfig.from_response(json.loads(stream.read())))
        elif kind == "jetstream" and rest.endswith(".jsonl"):
            await self._messages(rest.removesuffix(".jsonl"), stream)
        elif kind == "files":
            source, _, path = rest.partition("/")
            if source in self.files:
                target = self.files[source] / path
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as f:
                    shutil.copyfileobj(stream, f, CHUNK)
                self.progress(f"files {source}", 1)
        elif kind == "s3":
            source, _, path = rest.partition("/")
            if source in self.s3:
                where, client = self.s3[source]
                await buckets.write_stream(client, where, where.key(path), stream)
                self.progress(f"s3 {source}", 1)

    async def _documents(self, collection: str, stream: IO[bytes]) -> None:
        batch: list[Any] = []
        total = 0
        for doc in bson.decode_file_iter(stream):
            batch.append(doc)
            if len(batch) == BATCH:
                await self.db[collection].insert_many(batch, ordered=True)
                total, batch = total + len(batch), []
        if batch:
            await self.db[collection].insert_many(batch, ordered=True)
            total += len(batch)
        if not total and collection not in await self.db.list_collection_names():
            await self.db.create_collection(collection)
        self.progress(f"mongo {collection}", total)

    async def _indexes(self, collection: str, indexes: list[dict[str, Any]]) -> None:
        for ix in indexes:
            if ix.get("name") == "_id_":
                continue
            keys = list(ix.pop("key").items())
            ix.pop("v", None)
            ix.pop("ns", None)
            await self.db[collection].create_index(keys, **ix)

    async def _messages(self, stream_name: str, stream: IO[bytes]) -> None:
        count = 0
        for raw in stream:
            if not raw.strip():
                continue
            msg = json.loads(raw)
            headers = {k: v for k, v in (msg["headers"] or {}).items() if not k.startswith("Nats-Expected")}
            await self.js.publish(msg["subject"], base64.b64decode(msg["data"]), stream=stream_name,
                                  headers=headers or None)
            count += 1
        self.progress(f"stream {stream_name}", count)
