"""Views a module adds to its page from its manifest's `ui_components`.

An entry is a built-in (`kanban`, `kanban:<field>`: the shell's generic
board) or a component the module ships, `"<name>=<package.module>:<function>"`
with `;label=…;icon=…;collection=…;permission=…` options
(`webos_common.modules.shell_sdk.ShellComponent.entry`). The shell never imports
a shipped component: the module's host renders it, and the shell shows it
in an iframe inside its frame (`webos_shell.frames`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loguru import logger

from webos_common.identity import User
from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.shell_sdk import ShellComponent
from webos_shell import frames, runtime
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
    """A built-in view's function; None for anything else (the shell runs no module code)."""
    if target == "kanban":
        from webos_shell.components import kanban

        return kanban.render
    return None


async def render(view: View, ref: CollectionRef | None, user: User, params: dict[str, str],
                 manifest: ModuleManifest) -> bool:
    """Draw `view` into the current page; False when it cannot be drawn (a built-in
    needs a collection). A shipped view is its module host's page, in a frame."""
    if not view.built_in:
        frames.frame(manifest.name, view.name, params, slot=view.slot)
        return True
    function = load(view.target)
    if function is None or ref is None:
        return False
    await function(ref, user, view.option)
    return True
