"""The files of S3 sources in a backup: every object under a bucket's prefix, read and
written through aioboto3 (path-style, as storage's S3 source addresses them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import IO, Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Bucket:
    """Where an S3 source keeps its files: `bucket`, the keys under `prefix`."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    region: str = "us-east-1"

    @classmethod
    def parse(cls, url: str, **options: Any) -> Bucket:
        """`s3://bucket[/prefix]`."""
        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise ValueError(f"{url!r}: expected s3://BUCKET[/PREFIX]")
        bucket, _, prefix = url[5:].partition("/")
        return cls(bucket=bucket, prefix=prefix.strip("/"), **options)

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def relative(self, key: str) -> str:
        return key[len(self.prefix) + 1:] if self.prefix else key


@asynccontextmanager
async def client(where: Bucket) -> AsyncIterator[Any]:
    session = aioboto3.Session(aws_access_key_id=where.access_key, aws_secret_access_key=where.secret_key,
                               region_name=where.region)
    config = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
    async with session.client("s3", endpoint_url=where.endpoint_url, config=config) as s3:
        yield s3


async def keys(s3: Any, where: Bucket) -> list[str]:
    """Every object key under the prefix, folder markers included (they keep empty folders)."""
    found: list[str] = []
    try:
        async for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=where.bucket, Prefix=f"{where.prefix}/" if where.prefix else ""):
            found += [obj["Key"] for obj in page.get("Contents", [])]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
    return sorted(found)


async def read(s3: Any, where: Bucket, key: str) -> bytes:
    return b"".join([chunk async for chunk in read_chunks(s3, where, key)])


async def read_chunks(s3: Any, where: Bucket, key: str, size: int = 1 << 20) -> AsyncIterator[bytes]:
    body = (await s3.get_object(Bucket=where.bucket, Key=key))["Body"]
    try:
        while chunk := await body.read(size):
            yield chunk
    finally:
        body.close()


async def prepare(s3: Any, where: Bucket, *, replace: bool) -> list[str]:
    """Make the bucket ready to restore into: created if missing; with `replace` emptied
    under the prefix. Returns the keys still there (a restore refuses a non-empty target)."""
    try:
        await s3.head_bucket(Bucket=where.bucket)
    except ClientError:
        await s3.create_bucket(Bucket=where.bucket)
    present = await keys(s3, where)
    if replace:
        for key in present:
            await s3.delete_object(Bucket=where.bucket, Key=key)
        return []
    return present


async def write_stream(s3: Any, where: Bucket, key: str, stream: IO[bytes]) -> None:
    """Upload from a file object: multipart in parts of a few MiB when large, memory flat."""
    await s3.upload_fileobj(stream, where.bucket, key)
