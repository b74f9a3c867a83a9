"""`webos backup` / `webos restore`: one archive holding a platform's MongoDB
collections (documents as BSON, with their indexes), its JetStream streams —
the KV buckets (module registry, schedules, task records) are streams too —
with configuration and every message, and the files of AFS sources: local folders
and S3 buckets (every object under the source's prefix).

`manifest.json` lists every member with its sha256; restore checks them all
before it writes anything, and restores only into an empty platform (no
document in the target collections, no stream of the same name), so a
restore never merges into live data.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def _noop(_: str, __: int) -> None:
    return None


class _Writer:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members: dict[str, str] = {}

    def add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(datetime.now(UTC).timestamp())
        self.tar.addfile(info, io.BytesIO(data))
        self.members[name] = hashlib.sha256(data).hexdigest()


async def backup(archive: Path, *, mongo: AsyncMongoClient[Any], db_name: str, nc: NATS,
                 files: dict[str, Path] | None = None, s3: dict[str, Bucket] | None = None,
                 progress: Progress = _noop) -> dict[str, Any]:
    """Write the archive; return its manifest. `files`: local sources' folders by source id;
    `s3`: S3 sources' buckets by source id."""
    counts: dict[str, Any] = {"collections": {}, "streams": {}, "files": {}, "s3": {}}
    with tarfile.open(archive, "w:gz") as tar:
        out = _Writer(tar)
        db = mongo[db_name]
        for name in sorted(await db.list_collection_names()):
            if name.startswith("system."):
                continue
            docs = [bson.encode(doc) async for doc in db[name].find({})]
            out.add(f"mongo/{name}.bson", b"".join(docs))
            indexes = [ix async for ix in await db[name].list_indexes()]
            out.add(f"mongo/{name}.indexes.json", json.dumps([dict(ix) for ix in indexes], default=str).encode())
            counts["collections"][name] = len(docs)
            progress(f"mongo {name}", len(docs))
        js = nc.jetstream()
        for info in await js.streams_info():
            config, stream = info.config, info.config.name or ""
            lines = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
                try:
                    msg = await js.get_msg(stream, seq)
                except NotFoundError:  # deleted, purged or expired in between
                    continue
                lines.append(json.dumps({"subject": msg.subject, "headers": msg.headers or {},
                                         "data": base64.b64encode(msg.data or b"").decode()}))
            out.add(f"jetstream/{stream}.config.json", json.dumps(config.as_dict()).encode())
            out.add(f"jetstream/{stream}.jsonl", "\n".join(lines).encode())
            counts["streams"][stream] = len(lines)
            progress(f"stream {stream}", len(lines))
        for source, root in (files or {}).items():
            paths = sorted(p for p in root.rglob("*") if p.is_file())
            for path in paths:
                out.add(f"files/{source}/{path.relative_to(root).as_posix()}", path.read_bytes())
            counts["files"][source] = len(paths)
            progress(f"files {source}", len(paths))
        for source, where in (s3 or {}).items():
            async with buckets.client(where) as client:
                found = [key for key in await buckets.keys(client, where) if where.relative(key)]
                for key in found:
                    out.add(f"s3/{source}/{where.relative(key)}", await buckets.read(client, where, key))
                    progress(f"s3 {source}", 1)
            counts["s3"][source] = len(found)
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "database": db_name,
                    "counts": counts, "sha256": out.members}
        out.add("manifest.json", json.dumps(manifest, indent=1).encode())
    return manifest


def read_archive(archive: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and every member, checked against its sha256 (BackupError otherwise)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive}: not a readable backup: {exc}") from exc
    if "manifest.json" not in members:
        raise BackupError(f"{archive}: no manifest.json")
    manifest = json.loads(members.pop("manifest.json"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: format {manifest.get('format')!r}, expected {FORMAT}")
    expected: dict[str, str] = manifest["sha256"]
    bad = sorted(n for n, digest in expected.items()
                 if n != "manifest.json" and hashlib.sha256(members.get(n, b"\0missing")).hexdigest() != digest)
    if bad:
        raise BackupError(f"{archive}: checksum mismatch or missing: {', '.join(bad[:10])}")
    return manifest, members


async def restore(archive: Path, *, mongo: AsyncMongoClient[Any], db_name: str, nc: NATS,
                  files: dict[str, Path] | None = None, s3: dict[str, Bucket] | None = None,
                  progress: Progress = _noop, replace: bool = False) -> dict[str, Any]:
    """Restore the archive into an empty platform; return its manifest. `replace`: first drop
    the collections, delete the streams and empty the buckets the archive holds (a freshly
    started platform has created some of them already)."""
    manifest, members = read_archive(archive)
    async with AsyncExitStack() as stack:
        clients = {source: await stack.enter_async_context(buckets.client(where))
                   for source, where in (s3 or {}).items() if source in manifest["counts"].get("s3", {})}
        return await _restore(manifest, members, mongo=mongo, db_name=db_name, nc=nc, files=files,
                              s3={s: (w, clients[s]) for s, w in (s3 or {}).items() if s in clients},
                              progress=progress, replace=replace)


async def _restore(manifest: dict[str, Any], members: dict[str, bytes], *, mongo: AsyncMongoClient[Any],
                   db_name: str, nc: NATS, files: dict[str, Path] | None, s3: dict[str, tuple[Bucket, Any]],
                   progress: Progress, replace: bool) -> dict[str, Any]:
    db, js = mongo[db_name], nc.jetstream()
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
    for name in collections:
        raw = members[f"mongo/{name}.bson"]
        docs = bson.decode_all(raw)
        for ix in json.loads(members[f"mongo/{name}.indexes.json"]):
            if ix.get("name") == "_id_":
                continue
            keys = list(ix.pop("key").items())
            ix.pop("v", None)
            ix.pop("ns", None)
            await db[name].create_index(keys, **ix)
        if docs:
            await db[name].insert_many(docs, ordered=True)
        elif name not in await db.list_collection_names():
            await db.create_collection(name)
        progress(f"mongo {name}", len(docs))
    for stream in streams:
        config = StreamConfig.from_response(json.loads(members[f"jetstream/{stream}.config.json"]))
        await js.add_stream(config)
        lines = [line for line in members[f"jetstream/{stream}.jsonl"].decode().split("\n") if line]
        for line in lines:
            msg = json.loads(line)
            headers = {k: v for k, v in (msg["headers"] or {}).items() if not k.startswith("Nats-Expected")}
            await js.publish(msg["subject"], base64.b64decode(msg["data"]), stream=stream, headers=headers or None)
        progress(f"stream {stream}", len(lines))
    for source, root in (files or {}).items():
        prefix = f"files/{source}/"
        names = [n for n in members if n.startswith(prefix)]
        for name in names:
            target = root / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(members[name])
        progress(f"files {source}", len(names))
    for source, (where, client) in s3.items():
        prefix = f"s3/{source}/"
        for name in (n for n in members if n.startswith(prefix)):
            await buckets.write(client, where, where.key(name[len(prefix):]), members[name])
            progress(f"s3 {source}", 1)
    return manifest
