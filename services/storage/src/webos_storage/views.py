"""How a file looks on the wire: source metadata merged with its index entry."""

from __future__ import annotations

from typing import Any

from webos_common.files.afs import FileMetadata, Urn
from webos_storage.domain.model import IndexEntry


def item_view(source: str, meta: FileMetadata, entry: IndexEntry | None) -> dict[str, Any]:
    return {
        "urn": str(Urn(source, meta.path)) + ("/" if meta.is_dir and meta.path else ""),
        "name": meta.name,
        "is_dir": meta.is_dir,
        "size": meta.size,
        "modified": meta.modified.isoformat() if meta.modified else None,
        "etag": meta.etag,
        "content_type": meta.content_type,
        "sha256": entry.sha256 if entry else None,
        "owner": entry.owner if entry else None,
        "tags": entry.tags if entry else [],
        "created": entry.created.isoformat() if entry else None,
    }


