"""`S3DataSource`: a bucket (and key prefix) through aioboto3, path-style.

Folders are key prefixes; `mkdir` leaves a `<folder>/` marker so an empty
folder exists. Uploads of more than one part use a multipart upload, which
S3 makes visible only on completion (aborted on any failure), so an
interrupted upload leaves nothing behind; memory stays at one part.
"""

from __future__ import annotations

import contextlib
import functools
import mimetypes
from datetime import UTC, datetime, timedelta
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from webos_common.files.afs import (
    ByteStream,
    Capabilities,
    FileExists,
    FileMetadata,
    FileMissing,
    basename,
    join,
)
from webos_storage.adapters.remote import folder_in_the_way, refuse_root

PART = 8 * 1024 * 1024
CHUNK = 1024 * 1024


@functools.cache
def _session(access_key: str | None, secret_key: str | None, region: str) -> aioboto3.Session:
    """One session per credentials: botocore loads its service models once per session."""
    return aioboto3.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region)


class S3DataSource:
    def __init__(self, source_id: str, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str = "us-east-1", access_key: str | None = None, secret_key: str | None = None,
                 create_bucket: bool = True) -> None:
        self.id = source_id
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.create_bucket = create_bucket
        self._session = _session(access_key, secret_key, region)
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    def capabilities(self) -> Capabilities:
        return Capabilities(kind="s3", extra={"bucket": self.bucket})

    async def connect(self) -> None:
        config = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
        self._client = await self._stack.enter_async_context(
            self._session.client("s3", endpoint_url=self.endpoint_url, config=config)
        )
        try:
            try:
                await self._client.head_bucket(Bucket=self.bucket)
            except ClientError:
                if not self.create_bucket:
                    raise
                await self._client.create_bucket(Bucket=self.bucket)
        except BaseException:
            await self._stack.aclose()
            raise

    async def disconnect(self) -> None:
        await self._stack.aclose()

    async def sweep_stale_uploads(self, older_than: float) -> int:
        """Abort multipart uploads under this source begun more than `older_than` seconds ago
        (a crash mid-upload leaves them open, and real S3 bills their parts)."""
        cutoff, aborted = datetime.now(UTC) - timedelta(seconds=older_than), 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] <= cutoff:
                    with contextlib.suppress(ClientError):  # finished or aborted meanwhile
                        await self._client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                                  UploadId=upload["UploadId"])
                        aborted += 1
        return aborted

    def _key(self, path: str) -> str:
        return join(self.prefix, path)

    def _dir_key(self, path: str) -> str:
        key = self._key(path)
        return f"{key}/" if key else ""

    async def _head(self, path: str) -> dict[str, Any] | None:
        if not path:
            return None
        try:
            head: dict[str, Any] = await self._client.head_object(Bucket=self.bucket, Key=self._key(path))
            return head
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    async def _dir_exists(self, path: str) -> bool:
        if not path:
            return True
        page = await self._client.list_objects_v2(Bucket=self.bucket, Prefix=self._dir_key(path), MaxKeys=1)
        return bool(page.get("KeyCount"))

    async def get_stat(self, path: str) -> FileMetadata:
        head = await self._head(path)
        if head is not None:
            return FileMetadata(path=path, name=basename(path), is_dir=False, size=head["ContentLength"],
                                modified=head.get("LastModified"), etag=head.get("ETag"),
                                content_type=head.get("ContentType") or "application/octet-stream")
        if await self._dir_exists(path):
            return FileMetadata(path=path, name=basename(path), is_dir=True)
        raise FileMissing(f"No such file: {path}", details={"path": path})

    async def list_dir(self, path: str) -> list[FileMetadata]:
        prefix = self._dir_key(path)
        dirs: list[FileMetadata] = []
        files: list[FileMetadata] = []
        found = not path
        paginator = self._client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                found = True
                name = common["Prefix"][len(prefix):].rstrip("/")
                if not path and name in (".webos-trash", ".webos-tmp"):
                    continue
                dirs.append(FileMetadata(path=join(path, name), name=name, is_dir=True))
            for obj in page.get("Contents", []):
                found = True
                name = obj["Key"][len(prefix):]
                if not name:  # the folder's own marker
                    continue
                files.append(FileMetadata(
                    path=join(path, name), name=name, is_dir=False, size=obj["Size"],
                    modified=obj.get("LastModified"), etag=obj.get("ETag"),
                    content_type=mimetypes.guess_type(name)[0] or "application/octet-stream"))
        if not found:
            raise FileMissing(f"No such folder: {path}", details={"path": path})
        return sorted(dirs, key=lambda m: m.name) + sorted(files, key=lambda m: m.name)

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        extra = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            extra["Range"] = f"bytes={offset}-{end}"
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=self._key(path), **extra)
        except ClientError as exc:
            raise FileMissing(f"No such file: {path}", details={"path": path}) from exc
        body = response["Body"]
        try:
            while chunk := await body.read(CHUNK):
                yield chunk
        finally:
            body.close()

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        refuse_root(path)
        if await self._dir_exists(path):
            raise folder_in_the_way(path)
        key = self._key(path)
        ctype = content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                buffer += chunk
                if len(buffer) >= PART:
                    if upload_id is None:
                        created = await self._client.create_multipart_upload(
                            Bucket=self.bucket, Key=key, ContentType=ctype)
                        upload_id = created["UploadId"]
                    parts.append(await self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
                    buffer.clear()
            if upload_id is None:
                await self._client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer), ContentType=ctype)
            else:
                if buffer:
                    parts.append(await self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
                await self._client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return await self.get_stat(path)

    async def _part(self, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        result = await self._client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        return {"ETag": result["ETag"], "PartNumber": number}

    async def _keys_under(self, path: str) -> list[str]:
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self._dir_key(path)):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    async def delete(self, path: str) -> None:
        refuse_root(path, "delete")
        if await self._head(path) is not None:
            await self._client.delete_object(Bucket=self.bucket, Key=self._key(path))
            return
        keys = await self._keys_under(path)
        if not keys:
            raise FileMissing(f"No such file: {path}", details={"path": path})
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start:start + 1000]]
            await self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})

    async def move(self, src: str, dst: str) -> None:
        if await self._head(dst) is not None or await self._dir_exists(dst):
            raise FileExists(f"Already exists: {dst}", details={"path": dst})
        if await self._head(src) is not None:
            pairs = [(self._key(src), self._key(dst))]
        else:
            keys = await self._keys_under(src)
            if not keys:
                raise FileMissing(f"No such file: {src}", details={"path": src})
            old, new = self._dir_key(src), self._dir_key(dst)
            pairs = [(k, new + k[len(old):]) for k in keys]
        for old_key, new_key in pairs:
            await self._client.copy_object(Bucket=self.bucket, Key=new_key,
                                           CopySource={"Bucket": self.bucket, "Key": old_key})
        for old_key, _ in pairs:
            await self._client.delete_object(Bucket=self.bucket, Key=old_key)

    async def mkdir(self, path: str) -> None:
        if not path:
            return
        if await self._head(path) is not None:
            raise FileExists(f"A file exists at {path}", details={"path": path})
        await self._client.put_object(Bucket=self.bucket, Key=self._dir_key(path), Body=b"")
