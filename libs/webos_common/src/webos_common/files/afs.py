"""The Abstract File System's shared vocabulary (seed 002 §9.2, §10.2).

Every file is one URN, `fs://<source>/<path>`. A data source (local disk,
S3, or one a module contributes through `register_data_sources`) implements
`DataSource`; the storage service mounts them and answers for them.

Paths inside a source are always *relative* POSIX paths (`reports/2023.pdf`,
`""` for the root) that went through `safe_path`: no `..`, no absolute
path, no NUL, no backslash, no encoded traversal, no overlong name.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from webos_common.http.errors import BadRequest, Conflict, NotFound

SCHEME = "fs://"
MOUNT_PREFIX = "/mnt/"
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
RESERVED_PREFIXES = (".webos-trash", ".webos-tmp")
"""Top-level names a source keeps for itself: never addressable by users."""

_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ENCODED = re.compile(r"%(2e|2f|5c|00|25)", re.IGNORECASE)


class PathRejected(BadRequest):
    """A path that could leave its source (or is otherwise unusable): a 400."""

    code = "path_rejected"


class FileMissing(NotFound):
    """No file or folder at a path."""

    code = "file_not_found"


class FileExists(Conflict):
    code = "file_exists"


@dataclass(frozen=True)
class FileMetadata:
    """What a source knows about one entry."""

    path: str
    name: str
    is_dir: bool
    size: int = 0
    modified: datetime | None = None
    etag: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a source can do, listed by the API (discovery)."""

    read: bool = True
    write: bool = True
    delete: bool = True
    move: bool = True
    mkdir: bool = True
    range: bool = True
    kind: str = "unknown"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Urn:
    """A parsed `fs://<source>/<path>`; `path` is already `safe_path`-checked."""

    source: str
    path: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.source}/{self.path}"

    def child(self, name: str) -> Urn:
        return Urn(self.source, join(self.path, safe_path(name)))


ByteStream = AsyncIterator[bytes]


@runtime_checkable
class DataSource(Protocol):
    """A storage backend. Paths are `safe_path` results; errors are `FileMissing`,
    `FileExists`, `PathRejected` (or another `WebOSError`)."""

    id: str

    def capabilities(self) -> Capabilities: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def list_dir(self, path: str) -> list[FileMetadata]:
        """Entries directly inside `path`, folders and files, sorted by name."""
        ...

    async def get_stat(self, path: str) -> FileMetadata: ...

    def open_file(self, path: str, *, offset: int = 0, length: int | None = None) -> ByteStream:
        """The bytes `[offset, offset+length)` of a file as an async stream of chunks."""
        ...

    async def write_file(self, path: str, chunks: ByteStream, *, content_type: str | None = None) -> FileMetadata:
        """Store a file from a stream; nothing is visible at `path` until it all arrived."""
        ...

    async def delete(self, path: str) -> None:
        """Remove a file or a folder with everything in it."""
        ...

    async def move(self, src: str, dst: str) -> None:
        """Rename within this source; `dst` must not exist."""
        ...

    async def mkdir(self, path: str) -> None: ...


def safe_path(raw: str, *, allow_reserved: bool = False) -> str:
    """Check a user-given path inside a source, or raise `PathRejected`.

    A URN's path is taken literally (HTTP already decoded the query once), so
    `a%20b` names a file called `a%20b`. Percent-encoded dots, slashes,
    backslashes, NULs and percents (`%2e%2e`, `%252e`) are refused outright:
    they only appear in traversal attempts. A trailing slash is allowed and
    dropped; the root is `""`. `allow_reserved` lets storage itself name its
    trash and temporary folders (a module host serving storage's calls).
    """
    if not isinstance(raw, str):
        raise PathRejected("Path must be a string", details={"field": "path"})
    problem = _path_problem(raw)
    if problem and not (allow_reserved and problem == "reserved name"):
        raise PathRejected(f"Rejected path: {problem}", details={"field": "path", "reason": problem})
    return raw.rstrip("/")


def _path_problem(decoded: str) -> str | None:
    if _ENCODED.search(decoded):
        return "percent-encoded dot, slash, backslash, NUL or percent"
    if "\x00" in decoded or any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        return "control character or NUL"
    if "\\" in decoded:
        return "backslash"
    if decoded.startswith("/") or re.match(r"^[A-Za-z]:", decoded):
        return "absolute path"
    if len(decoded.encode()) > MAX_PATH_BYTES:
        return "path too long"
    parts = decoded.rstrip("/").split("/") if decoded.rstrip("/") else []
    for part in parts:
        if part in ("", ".", ".."):
            return "'..', '.' or empty segment"
        if len(part.encode()) > MAX_NAME_BYTES:
            return "name too long"
    if parts and parts[0] in RESERVED_PREFIXES:
        return "reserved name"
    return None


def safe_name(raw: str) -> str:
    """One path segment (a file name), checked like a path."""
    name = safe_path(raw)
    if not name or "/" in name:
        raise PathRejected("A name may not be empty or contain '/'", details={"field": "name"})
    return name


def join(base: str, name: str) -> str:
    return f"{base}/{name}" if base and name else base or name


def parent(path: str) -> str:
    return path.rpartition("/")[0]


def basename(path: str) -> str:
    return path.rpartition("/")[2]


def is_within(path: str, folder: str) -> bool:
    """True when `path` is `folder` or below it (both `safe_path` results)."""
    return not folder or path == folder or path.startswith(folder + "/")


def from_mount_path(text: str) -> str:
    """`/mnt/<mount>/<path>` → `fs://<mount>/<path>`; any other text unchanged."""
    if isinstance(text, str) and text.startswith(MOUNT_PREFIX):
        return SCHEME + text[len(MOUNT_PREFIX):]
    return text


def looks_like_urn(text: str) -> bool:
    """Written as a URN or a mount path (not yet checked: `parse_urn` does that)."""
    return text.startswith((SCHEME, MOUNT_PREFIX))


def split_urn(text: str) -> tuple[str, str]:
    """`fs://local/a/b/` → (`local`, `a/b`), leniently: for showing and building
    addresses in a UI; the storage service checks them (`parse_urn`)."""
    source, _, path = from_mount_path(text).removeprefix(SCHEME).partition("/")
    return source, path.strip("/")


def folder_urn(text: str) -> str:
    """The URN of a folder, written with its trailing slash."""
    source, path = split_urn(text)
    return f"{SCHEME}{source}/" + (f"{path}/" if path else "")


def child_urn(folder: str, name: str) -> str:
    return folder_urn(folder) + name


def parent_urn(text: str) -> str:
    source, path = split_urn(text)
    return folder_urn(f"{SCHEME}{source}/{parent(path)}")


def parse_urn(value: str) -> Urn:
    """`fs://<source>/<path>` → `Urn`; a bad scheme, source or path is a 400."""
    if not isinstance(value, str) or not value.startswith(SCHEME):
        raise PathRejected("A URN looks like fs://<source>/<path>", details={"field": "urn"})
    rest = value[len(SCHEME):]
    source, _, path = rest.partition("/")
    if not _SOURCE_RE.match(source):
        raise PathRejected(f"Bad source name {source!r}", details={"field": "urn", "source": source})
    return Urn(source, safe_path(path))
