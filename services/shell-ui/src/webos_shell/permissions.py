"""What a person may see: nav entries, commands, widgets, admin pages and
collections filtered by their permissions (pure, no UI)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from webos_common.identity import User
from webos_common.modules.manifest import Collection, ModuleManifest, NavEntry, PaletteCommand, Widget


class _Guarded(Protocol):
    permission: str | None


G = TypeVar("G", bound=_Guarded)


def allowed(user: User, permission: str | None) -> bool:
    return permission is None or user.has_permission(permission)


def permitted(user: User, entries: Iterable[G]) -> list[G]:
    return [entry for entry in entries if allowed(user, entry.permission)]


def can_read(user: User, collection: Collection) -> bool:
    return allowed(user, collection.permission_read)


def can_write(user: User, collection: Collection) -> bool:
    return allowed(user, collection.permission_write)


def navigation(user: User, manifests: Iterable[ModuleManifest]) -> list[NavEntry]:
    entries = [entry for m in manifests for entry in permitted(user, m.nav)]
    return sorted(entries, key=lambda e: (e.order, e.label.lower()))


def commands(user: User, manifests: Iterable[ModuleManifest]) -> list[tuple[ModuleManifest, PaletteCommand]]:
    return [(m, c) for m in manifests for c in permitted(user, m.commands)]


def widgets(user: User, manifests: Iterable[ModuleManifest]) -> list[tuple[ModuleManifest, Widget]]:
    return [(m, w) for m in manifests for w in permitted(user, m.widgets)]


def admin_path_allowed(user: User, path: str) -> bool:
    """Every `/admin...` path needs an admin; other paths are the pages' own business."""
    return not (path == "/admin" or path.startswith("/admin/")) or user.is_admin
