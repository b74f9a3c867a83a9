"""Views a module adds to its page from its manifest's `ui_components`.

An entry is a built-in (`kanban`, `kanban:<field>`: the shell's generic
board) or a component the module ships, `"<name>=<package.module>:<function>"`
with `;label=…;icon=…;collection=…;permission=…` options
(`webos_common.shell_sdk.ShellComponent.entry`). The shell imports a
shipped component by that name (never from its own code) and calls
`await function(ctx)` with a `PageContext`: the person, the collection,
the page's query parameters and the person's authenticated calls."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger
from nicegui import app, ui

from webos_common.identity import User
from webos_common.manifest import Collection, ModuleManifest
from webos_common.shell_sdk import ShellComponent
from webos_shell import runtime
from webos_shell.collections_ui import CollectionRef

BuiltIn = Callable[[CollectionRef, User, str | None], Awaitable[None]]
BUILT_INS = {"kanban"}


@dataclass(frozen=True)
class View:
    name: str
    target: str
    option: str | None = None
    label: str = ""
    icon: str = "view_kanban"
    collection: str | None = None
    permission: str | None = None
    slot: str | None = None

    @property
    def built_in(self) -> bool:
        return self.target in BUILT_INS


def parse(entry: str) -> View:
    """`"kanban:status"` → the built-in board grouped by status;
    `"board=webos_tasks.shell:board;label=Board"` → a module-shipped view."""
    if "=" in entry:
        shipped = ShellComponent.from_entry(entry)
        return View(shipped.name, shipped.path, None, shipped.label, shipped.icon, shipped.collection,
                    shipped.permission, shipped.slot)
    name, _, option = entry.partition(":")
    return View(name, name, option or None)


def views(entries: list[str], user: User, *, slot: str | None = None) -> dict[str, View]:
    """The manifest's page views this person may open (or, with `slot`, its pieces for
    that layout slot), by name; a bad entry is logged and left out."""
    found: dict[str, View] = {}
    for entry in entries:
        try:
            view = parse(entry)
        except ValueError:
            logger.warning("ignoring the ui_components entry {!r}", entry)
            continue
        if view.slot == slot and (view.permission is None or user.has_permission(view.permission)):
            found[view.name] = view
    return found


async def render_slot(slot: str, user: User) -> None:
    """Draw every live module's components for a layout slot, each contained (a failing one
    is logged and named, the page goes on)."""
    from webos_shell import collections_ui

    registry = runtime.get().registry
    for manifest in registry.modules() if registry else []:
        if not registry or not registry.is_enabled(manifest.name):
            continue
        for view in views(manifest.ui_components, user, slot=slot).values():
            ref = collections_ui.find(manifest.name, view.collection)
            await render(view, ref, user, {}, manifest)


def load(target: str) -> Callable[..., Awaitable[None]] | None:
    if target == "kanban":
        from webos_shell.components import kanban

        return kanban.render
    module_name, _, attr = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        logger.exception("module component {} cannot be loaded", target)
        return None
    return found if callable(found) else None


class PageContext:
    """`webos_common.shell_sdk.ShellContext` for one page view, calling the
    gateway with the signed-in person's tokens (kept in their session)."""

    def __init__(self, user: User, manifest: ModuleManifest, collection: Collection | None,
                 params: dict[str, str]) -> None:
        self.user = user
        self.module = manifest.name
        self.collection = collection
        self.params = params
        self._tokens = app.storage.user

    @property
    def endpoint(self) -> str:
        return self.collection.endpoint if self.collection else f"/api/{self.module}"

    async def get(self, path: str, **params: Any) -> Any:
        return await runtime.get().gateway.get(self._tokens, path, **params)

    async def send(self, method: str, path: str, body: Any = None) -> Any:
        return await runtime.get().gateway.send(self._tokens, method.upper(), path, body)

    def notify(self, message: str, *, level: str = "info") -> None:
        ui.notify(message, type=level if level in {"info", "positive", "negative", "warning", "ongoing"}
                  else "info")

    def navigate(self, path: str) -> None:
        ui.navigate.to(path)

    def static_url(self, name: str) -> str:
        return f"/api/{self.module}/static/{name.lstrip('/')}"


async def render(view: View, ref: CollectionRef | None, user: User, params: dict[str, str],
                 manifest: ModuleManifest) -> bool:
    """Draw `view` into the current page; False when it cannot be loaded
    (a built-in needs a collection; a shipped view gets `collection=None` without one)."""
    function = load(view.target)
    if function is None or (view.built_in and ref is None):
        return False
    if view.built_in:
        await function(ref, user, view.option)
        return True
    try:
        await function(PageContext(user, manifest, ref.collection if ref else None, params))
    except Exception as exc:  # noqa: BLE001 - a module's bug must not take the shell's page down
        logger.exception("module component {} failed", view.target)
        ui.label(f"The {manifest.name} module's view {view.name!r} failed: {type(exc).__name__}").classes(
            "text-negative").props('data-testid="component-failed"')
    return True
