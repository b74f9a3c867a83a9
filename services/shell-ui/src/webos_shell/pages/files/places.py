"""Where the Files page is and what it says, computed (pure): its URLs, the home alias,
breadcrumbs and the locations they spell, sources, sizes, tags, names checked before
asking storage, and how a file is previewed."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlencode

from webos_common.files.afs import folder_urn, parent_urn, split_urn

PAGE = "/files"
HOME_ALIAS = "home"
UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
TEXT_SUFFIXES = frozenset({".log", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf"})  # no MIME type knows them
TEXT_TYPES = frozenset({"application/json", "application/xml", "application/yaml", "application/x-yaml",
                        "application/toml", "application/javascript", "application/x-sh"})


def human_size(size: int | None) -> str:
    """`1536` → `1.5 KiB`; unknown (a folder) → an empty string."""
    if size is None:
        return ""
    value = float(size)
    for unit in UNITS:
        if value < 1024 or unit == UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # pragma: no cover - the loop always returns


def alias_home(urn: str, home: str | None, names: Iterable[str] = ()) -> str:
    """`fs://home/x` → `<home>/x`, unless `home` names a real source or mount."""
    source, path = split_urn(urn)
    if source != HOME_ALIAS or not home or HOME_ALIAS in set(names):
        return urn
    return folder_urn(home) + path + ("/" if path and urn.endswith("/") else "")


def breadcrumbs(urn: str, home: str | None = None) -> list[tuple[str, str]]:
    """(label, folder URN) from the root to `urn`; under the person's home
    the trail starts at "Home" instead of `source / home / <id>`."""
    source, path = split_urn(urn)
    parts = [p for p in path.split("/") if p]
    crumbs = [(source, f"fs://{source}/")]
    if home:
        home_source, home_path = split_urn(home)
        home_parts = [p for p in home_path.split("/") if p]
        if source == home_source and parts[: len(home_parts)] == home_parts:
            crumbs = [("Home", folder_urn(home))]
            parts, base = parts[len(home_parts):], home_parts
        else:
            base = []
    else:
        base = []
    trail = list(base)
    for part in parts:
        trail.append(part)
        crumbs.append((part, folder_urn(f"fs://{source}/{'/'.join(trail)}")))
    return crumbs


def location(urn: str, home: str | None = None) -> str:
    """The folder a file is in as a person reads it: `Home / Reports`, not the URN."""
    return " / ".join(label for label, _ in breadcrumbs(parent_urn(urn), home))


def preview_kind(name: str, content_type: str | None) -> str:
    """How the Files page previews a file: image, pdf, markdown, text or other (type first,
    the name's suffix when the type says nothing)."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype in ("", "application/octet-stream"):
        ctype = mimetypes.guess_type(name)[0] or ""
    suffix = PurePosixPath(name).suffix.lower()
    if ctype == "text/markdown" or suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if ctype in IMAGE_TYPES:
        return "image"
    if ctype == "application/pdf":
        return "pdf"
    if ctype.startswith("text/") or ctype in TEXT_TYPES or suffix in TEXT_SUFFIXES:
        return "text"
    return "other"


def parse_tags(text: str | None) -> list[str]:
    """`"a, b,,a "` → `["a", "b"]`: comma-separated, trimmed, no repeats."""
    seen: list[str] = []
    for raw in (text or "").split(","):
        tag = raw.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def name_problem(name: str | None) -> str | None:
    """Why a new file or folder name is refused before asking storage (which checks the rest)."""
    name = (name or "").strip()
    if not name:
        return "A name is required"
    if "/" in name or "\\" in name:
        return "A name cannot contain / or \\"
    if name in (".", ".."):
        return "Not a valid name"
    if len(name.encode()) > 255:
        return "At most 255 bytes"
    return None


def files_url(urn: str | None = None, *, q: str | None = None, view: str | None = None) -> str:
    params = {k: v for k, v in (("urn", urn), ("q", q), ("view", view)) if v}
    return PAGE + (f"?{urlencode(params)}" if params else "")


def source_options(sources: dict[str, Any]) -> dict[str, str]:
    """Where one can go: the home, every source and every mount (folder URN → label)."""
    options: dict[str, str] = {}
    if sources.get("home"):
        options[folder_urn(str(sources["home"]))] = "Home"
    for source in sources.get("sources") or []:
        options.setdefault(folder_urn(f"fs://{source['id']}/"), str(source["id"]))
    for mount in sources.get("mounts") or []:
        options.setdefault(folder_urn(f"fs://{mount['name']}/"), f"{mount['name']} (mount)")
    return options


def chosen_option(urn: str, options: Iterable[str]) -> str | None:
    """The option the URN is under (the longest one: the home before its source)."""
    here = folder_urn(urn)
    under = [o for o in options if here.startswith(o)]
    return max(under, key=len) if under else None


def share_url(share: dict[str, Any], *, download: bool = True) -> str:
    """Storage's share answer → the gateway path the browser downloads (or shows) it from."""
    return f"/api/storage{share['path']}" + ("?download=1" if download else "")
