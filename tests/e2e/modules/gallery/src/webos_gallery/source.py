"""A read-only folder of photos as an AFS data source (served to storage by the host)."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from webos_common.files.afs import Capabilities, FileMetadata, FileMissing
from webos_common.http.errors import Forbidden


class PhotoArchive:
    def __init__(self, source_id: str, root: Path) -> None:
        self.id, self.root = source_id, root

    def capabilities(self) -> Capabilities:
        return Capabilities(write=False, delete=False, move=False, mkdir=False, kind="photo-archive")

    async def connect(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    async def disconnect(self) -> None:
        return None

    def _meta(self, path: str) -> FileMetadata:
        real = self.root / path if path else self.root
        if not real.exists() or "/" in path:
            raise FileMissing(f"No file {path}", details={"path": path})
        stat = real.stat()
        return FileMetadata(path=path, name=real.name if path else "", is_dir=real.is_dir(), size=stat.st_size,
                            modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                            content_type=mimetypes.guess_type(real.name)[0])

    async def get_stat(self, path: str) -> FileMetadata:
        return self._meta(path)

    async def list_dir(self, path: str) -> list[FileMetadata]:
        if path:
            raise FileMissing(f"No folder {path}", details={"path": path})
        return [self._meta(p.name) for p in sorted(self.root.iterdir()) if p.is_file()]

    async def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        data = (self.root / self._meta(path).path).read_bytes()
        yield data[offset:] if length is None else data[offset:offset + length]

    async def write_file(self, path: str, chunks: AsyncIterator[bytes], *, content_type: str | None = None,
                         ) -> FileMetadata:
        raise Forbidden("The photo archive is read-only")

    async def delete(self, path: str) -> None:
        raise Forbidden("The photo archive is read-only")

    async def move(self, src: str, dst: str) -> None:
        raise Forbidden("The photo archive is read-only")

    async def mkdir(self, path: str) -> None:
        raise Forbidden("The photo archive is read-only")
