"""What the command palette offers (pure): navigation, every module's
commands, the kernel's own (light/dark, sign out, a new record of each
collection one may write), the person's recent items and the shell's own
pages, filtered by permission and ranked by fuzzy match."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from webos_common.identity import User
from webos_common.modules.manifest import ModuleManifest
from webos_shell import fuzzy, permissions
from webos_shell.collection_api import record_noun

Group = Literal["Navigation", "Commands", "Recent", "Records", "Admin"]


@dataclass(frozen=True)
class PaletteItem:
    id: str
    label: str
    group: Group
    action: Literal["navigate", "form", "api", "theme"] = "navigate"
    path: str | None = None
    module: str | None = None
    collection: str | None = None
    method: str = "POST"
    keywords: tuple[str, ...] = field(default_factory=tuple)
    icon: str = "chevron_right"

    def texts(self) -> tuple[str, ...]:
        return (self.label, *self.keywords)


SHELL_PAGES = (
    PaletteItem("shell.home", "Dashboard", "Navigation", path="/", keywords=("home",), icon="dashboard"),
    PaletteItem("shell.notifications", "Notifications", "Navigation", path="/notifications",
                keywords=("inbox", "alerts"), icon="notifications"),
    PaletteItem("shell.files", "Files", "Navigation", path="/files",
                keywords=("documents", "upload", "download", "storage", "folder"), icon="folder"),
    PaletteItem("shell.account", "My account", "Navigation", path="/account",
                keywords=("profile", "password", "api keys", "preferences"), icon="manage_accounts"),
)
SIGN_OUT = "/logout"
KERNEL_COMMANDS = (
    PaletteItem("shell.theme", "Toggle light / dark theme", "Commands", action="theme",
                keywords=("dark mode", "light mode", "appearance", "colours"), icon="contrast"),
    PaletteItem("shell.sign-out", "Sign out", "Commands", path=SIGN_OUT, keywords=("log out", "logout", "exit"),
                icon="logout"),
)
ADMIN_PAGES = (
    ("admin", "Admin dashboard"), ("admin/users", "Users"), ("admin/roles", "Roles and permissions"),
    ("admin/audit", "Audit trail of roles"), ("admin/modules", "Module manager"),
    ("admin/settings", "Settings editor"), ("admin/logs", "Live logs"), ("admin/events", "Event log and dead letters"),
    ("admin/apps", "Apps that sign in with WebOS (OAuth clients)"), ("admin/sagas", "Saga runs of the modules"),
)


def build(user: User, manifests: Iterable[ModuleManifest], recent: Iterable[dict[str, str]] = ()) -> list[PaletteItem]:
    manifests = list(manifests)
    items: list[PaletteItem] = [*SHELL_PAGES, *KERNEL_COMMANDS]
    for entry in permissions.navigation(user, manifests):
        items.append(PaletteItem(f"nav:{entry.path}", entry.label, "Navigation", path=entry.path, icon=entry.icon))
    for manifest, cmd in permissions.commands(user, manifests):
        items.append(PaletteItem(
            f"{manifest.name}:{cmd.id}", cmd.label, "Commands", action=cmd.action, path=cmd.path,
            module=manifest.name, collection=cmd.collection, method=cmd.method,
            keywords=(*cmd.keywords, manifest.name), icon="bolt",
        ))
    items += _new_records(user, manifests, {(i.module, i.collection) for i in items if i.action == "form"})
    if user.is_admin:
        items += [PaletteItem(f"admin:{p}", label, "Admin", path=f"/{p}", keywords=("admin",),
                              icon="admin_panel_settings") for p, label in ADMIN_PAGES]
        items += [PaletteItem(f"admin:{m.name}:{page.path}", page.label, "Admin", path=page.path,
                              keywords=("admin", m.name), icon="admin_panel_settings")
                  for m in manifests for page in m.admin_pages
                  if not page.permission or user.has_permission(page.permission)]
    seen = {item.path for item in items}
    for visit in recent:
        if visit.get("path") and visit["path"] not in seen and not (
                visit["path"].startswith("/admin") and not user.is_admin):
            items.append(PaletteItem(f"recent:{visit['path']}", visit.get("label", visit["path"]), "Recent",
                                     path=visit["path"], icon="history"))
    return items


def _new_records(user: User, manifests: list[ModuleManifest],
                 offered: set[tuple[str | None, str | None]]) -> list[PaletteItem]:
    """"New <record>" for each collection one may write that its module offers no form command for."""
    items = []
    for manifest in manifests:
        for index, collection in enumerate(manifest.collections):
            mine = {(manifest.name, collection.name)} | ({(manifest.name, None)} if index == 0 else set())
            if collection.create_model and permissions.can_write(user, collection) and not mine & offered:
                items.append(PaletteItem(
                    f"new:{manifest.name}:{collection.name}", f"New {record_noun(collection)}", "Commands",
                    action="form", module=manifest.name, collection=collection.name,
                    keywords=("create", "add", collection.label, manifest.name), icon="add"))
    return items


def search(query: str, items: list[PaletteItem], limit: int = 12) -> list[PaletteItem]:
    if not query.strip():
        recent = [i for i in items if i.group == "Recent"]
        return (recent + [i for i in items if i.group != "Recent"])[:limit]
    return fuzzy.rank(query, items, key=PaletteItem.texts, limit=limit)


def remember(recent: list[dict[str, str]], path: str, label: str, keep: int = 8) -> list[dict[str, str]]:
    """The recent list with (path, label) first, without duplicates (signing out is no place to go back to)."""
    if path == SIGN_OUT:
        return recent
    rest = [r for r in recent if r.get("path") != path]
    return [{"path": path, "label": label}, *rest][:keep]
